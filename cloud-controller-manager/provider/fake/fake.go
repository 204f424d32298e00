package fake

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Name is the name the fake registers under.
const Name = "fake"

// Instance is one fake instance.
type Instance struct {
	// Shutdown marks the instance stopped (it still exists).
	Shutdown bool
	// Metadata is what InstanceMetadata returns (ProviderID defaults to
	// "fake://<node name>").
	Metadata provider.InstanceMetadata
}

// Balancer is the state of one fake load balancer.
type Balancer struct {
	// Service is "namespace/name".
	Service string
	// Ports are "<port>/<protocol>-><nodePort>", sorted.
	Ports []string
	// Nodes are the names of the nodes it forwards to, sorted.
	Nodes []string
	// IP is its address.
	IP string
}

// Provider is the fake. The zero value is not usable; call [New]. It is
// safe for concurrent use.
type Provider struct {
	mu        sync.Mutex
	instances map[string]*Instance // by node name
	balancers map[string]*Balancer // by load balancer name
	routes    map[string]*provider.Route
	calls     []string
	errs      map[string]error
	nextIP    int

	// Capabilities; all true by New.
	HasInstances, HasLoadBalancer, HasRoutes bool
}

var (
	_ provider.Interface    = (*Provider)(nil)
	_ provider.Instances    = (*Provider)(nil)
	_ provider.LoadBalancer = (*Provider)(nil)
	_ provider.Routes       = (*Provider)(nil)
)

// New returns a fake with every capability and no instances.
func New() *Provider {
	return &Provider{
		instances: map[string]*Instance{}, balancers: map[string]*Balancer{},
		routes: map[string]*provider.Route{}, errs: map[string]error{},
		HasInstances: true, HasLoadBalancer: true, HasRoutes: true,
	}
}

// Registration registers p under [Name].
func Registration(p *Provider) provider.Registration {
	return provider.Registration{Name: Name, New: func(context.Context, provider.Config) (provider.Interface, error) { return p, nil }}
}

// SetInstance adds or replaces the instance of node name.
func (p *Provider) SetInstance(name string, in Instance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if in.Metadata.ProviderID == "" {
		in.Metadata.ProviderID = Name + "://" + name
	}
	p.instances[name] = &in
}

// DeleteInstance removes the instance of node name.
func (p *Provider) DeleteInstance(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.instances, name)
}

// SetError makes method (e.g. "EnsureLoadBalancer") fail with err; nil
// clears it.
func (p *Provider) SetError(method string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		delete(p.errs, method)
	} else {
		p.errs[method] = err
	}
}

// Calls returns the calls made so far, as "Method arg".
func (p *Provider) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

// CallCount counts the calls of method.
func (p *Provider) CallCount(method string) int {
	n := 0
	for _, c := range p.Calls() {
		if c == method || strings.HasPrefix(c, method+" ") {
			n++
		}
	}
	return n
}

// ClearCalls forgets the recorded calls.
func (p *Provider) ClearCalls() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = nil
}

// Balancers returns a copy of the load balancers, by name.
func (p *Provider) Balancers() map[string]Balancer {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]Balancer{}
	for n, b := range p.balancers {
		c := *b
		c.Ports = append([]string(nil), b.Ports...)
		c.Nodes = append([]string(nil), b.Nodes...)
		out[n] = c
	}
	return out
}

// RouteList returns the routes, sorted by target node.
func (p *Provider) RouteList() []provider.Route {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []provider.Route
	for _, r := range p.routes {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TargetNode < out[j].TargetNode })
	return out
}

// AddRoute adds a route as if made outside the controller.
func (p *Provider) AddRoute(r provider.Route) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.routes[r.Name] = &r
}

// record notes a call and returns the injected error, under p.mu.
func (p *Provider) record(method, arg string) error {
	c := method
	if arg != "" {
		c += " " + arg
	}
	p.calls = append(p.calls, c)
	return p.errs[method]
}

// ProviderName implements provider.Interface.
func (p *Provider) ProviderName() string { return Name }

// Instances implements provider.Interface.
func (p *Provider) Instances() (provider.Instances, bool) { return p, p.HasInstances }

// LoadBalancer implements provider.Interface.
func (p *Provider) LoadBalancer() (provider.LoadBalancer, bool) { return p, p.HasLoadBalancer }

// Routes implements provider.Interface.
func (p *Provider) Routes() (provider.Routes, bool) { return p, p.HasRoutes }

// InstanceExists implements provider.Instances.
func (p *Provider) InstanceExists(_ context.Context, node *corev1.Node) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	name := node.GetMetadata().GetName()
	if err := p.record("InstanceExists", name); err != nil {
		return false, err
	}
	_, ok := p.instances[name]
	return ok, nil
}

// InstanceShutdown implements provider.Instances.
func (p *Provider) InstanceShutdown(_ context.Context, node *corev1.Node) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	name := node.GetMetadata().GetName()
	if err := p.record("InstanceShutdown", name); err != nil {
		return false, err
	}
	in, ok := p.instances[name]
	if !ok {
		return false, fmt.Errorf("node %s: %w", name, provider.ErrInstanceNotFound)
	}
	return in.Shutdown, nil
}

// InstanceMetadata implements provider.Instances.
func (p *Provider) InstanceMetadata(_ context.Context, node *corev1.Node) (*provider.InstanceMetadata, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	name := node.GetMetadata().GetName()
	if err := p.record("InstanceMetadata", name); err != nil {
		return nil, err
	}
	in, ok := p.instances[name]
	if !ok {
		return nil, fmt.Errorf("node %s: %w", name, provider.ErrInstanceNotFound)
	}
	md := in.Metadata
	md.Addresses = nil
	for _, a := range in.Metadata.Addresses {
		md.Addresses = append(md.Addresses, proto.Clone(a).(*corev1.NodeAddress))
	}
	return &md, nil
}

func serviceKey(svc *corev1.Service) string {
	return svc.GetMetadata().GetNamespace() + "/" + svc.GetMetadata().GetName()
}

// GetLoadBalancerName implements provider.LoadBalancer: "<cluster>-<uid>".
func (p *Provider) GetLoadBalancerName(_ context.Context, clusterName string, svc *corev1.Service) string {
	return clusterName + "-" + svc.GetMetadata().GetUid()
}

// GetLoadBalancer implements provider.LoadBalancer.
func (p *Provider) GetLoadBalancer(ctx context.Context, clusterName string, svc *corev1.Service) (*corev1.LoadBalancerStatus, bool, error) {
	name := p.GetLoadBalancerName(ctx, clusterName, svc)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.record("GetLoadBalancer", serviceKey(svc)); err != nil {
		return nil, false, err
	}
	b, ok := p.balancers[name]
	if !ok {
		return nil, false, nil
	}
	return &corev1.LoadBalancerStatus{Ingress: []*corev1.LoadBalancerIngress{{Ip: b.IP}}}, true, nil
}

// EnsureLoadBalancer implements provider.LoadBalancer. Addresses are
// 192.0.2.1, .2, ... in order of creation.
func (p *Provider) EnsureLoadBalancer(ctx context.Context, clusterName string, svc *corev1.Service, nodes []*corev1.Node) (*corev1.LoadBalancerStatus, error) {
	name := p.GetLoadBalancerName(ctx, clusterName, svc)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.record("EnsureLoadBalancer", serviceKey(svc)); err != nil {
		return nil, err
	}
	b, ok := p.balancers[name]
	if !ok {
		p.nextIP++
		b = &Balancer{Service: serviceKey(svc), IP: fmt.Sprintf("192.0.2.%d", p.nextIP)}
		p.balancers[name] = b
	}
	b.Ports = nil
	for _, sp := range svc.GetSpec().GetPorts() {
		proto := sp.GetProtocol()
		if proto == "" {
			proto = "TCP"
		}
		b.Ports = append(b.Ports, fmt.Sprintf("%d/%s->%d", sp.GetPort(), proto, sp.GetNodePort()))
	}
	sort.Strings(b.Ports)
	b.Nodes = nodeNames(nodes)
	return &corev1.LoadBalancerStatus{Ingress: []*corev1.LoadBalancerIngress{{Ip: b.IP}}}, nil
}

// UpdateLoadBalancer implements provider.LoadBalancer.
func (p *Provider) UpdateLoadBalancer(ctx context.Context, clusterName string, svc *corev1.Service, nodes []*corev1.Node) error {
	name := p.GetLoadBalancerName(ctx, clusterName, svc)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.record("UpdateLoadBalancer", serviceKey(svc)); err != nil {
		return err
	}
	b, ok := p.balancers[name]
	if !ok {
		return fmt.Errorf("load balancer %s does not exist", name)
	}
	b.Nodes = nodeNames(nodes)
	return nil
}

// EnsureLoadBalancerDeleted implements provider.LoadBalancer.
func (p *Provider) EnsureLoadBalancerDeleted(ctx context.Context, clusterName string, svc *corev1.Service) error {
	name := p.GetLoadBalancerName(ctx, clusterName, svc)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.record("EnsureLoadBalancerDeleted", serviceKey(svc)); err != nil {
		return err
	}
	delete(p.balancers, name)
	return nil
}

func nodeNames(nodes []*corev1.Node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, n.GetMetadata().GetName())
	}
	sort.Strings(out)
	return out
}

// ListRoutes implements provider.Routes.
func (p *Provider) ListRoutes(_ context.Context, clusterName string) ([]*provider.Route, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.record("ListRoutes", clusterName); err != nil {
		return nil, err
	}
	var out []*provider.Route
	for _, r := range p.routes {
		c := *r
		out = append(out, &c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// CreateRoute implements provider.Routes; the route is named after its
// target node.
func (p *Provider) CreateRoute(_ context.Context, clusterName, nameHint string, route *provider.Route) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.record("CreateRoute", route.TargetNode+" "+route.DestinationCIDR); err != nil {
		return err
	}
	c := *route
	c.Name = clusterName + "-" + route.TargetNode
	p.routes[c.Name] = &c
	return nil
}

// DeleteRoute implements provider.Routes.
func (p *Provider) DeleteRoute(_ context.Context, _ string, route *provider.Route) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.record("DeleteRoute", route.TargetNode+" "+route.DestinationCIDR); err != nil {
		return err
	}
	delete(p.routes, route.Name)
	return nil
}
