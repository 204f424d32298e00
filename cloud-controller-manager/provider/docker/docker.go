package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	dockerclient "github.com/moby/moby/client"
	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/cloud-controller-manager/internal/lb"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Name is the provider's name (--cloud-provider=docker).
const Name = "docker"

// Labels the provider reads and writes on containers.
const (
	// DefaultNodeLabel marks a node's container: gantry.dev/node=<node>.
	DefaultNodeLabel = "gantry.dev/node"
	// LabelCluster marks a load balancer with its cluster's name.
	LabelCluster = "io.gantry.cluster"
	// LabelService marks a load balancer with its service, "<ns>/<name>".
	LabelService = "io.gantry.lb.service"
	// LabelServiceUID marks a load balancer with its service's UID.
	LabelServiceUID = "io.gantry.lb.uid"
)

// Options configure the provider.
type Options struct {
	// Network is the Docker network of the cluster's nodes and load
	// balancers.
	Network string
	// LBImage is the load balancer's image.
	LBImage string
	// NodeLabel is the label key that names a node's container.
	NodeLabel string
	// UnbackedNodesExist treats nodes with no container as existing.
	UnbackedNodesExist bool
	// Host is the Docker engine's address ("" for $DOCKER_HOST or the
	// default socket).
	Host string
}

// DefaultOptions are the flags' defaults.
func DefaultOptions() Options {
	return Options{Network: "gantry", LBImage: "gantry/lb:latest", NodeLabel: DefaultNodeLabel, UnbackedNodesExist: true}
}

// AddFlags adds the provider's flags to fs, bound to o.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Network, "docker-network", o.Network, "docker provider: the Docker network the cluster's node containers and load balancers are on.")
	fs.StringVar(&o.LBImage, "docker-lb-image", o.LBImage, "docker provider: the load balancer image (hack/images/lb/build.sh builds it).")
	fs.StringVar(&o.NodeLabel, "docker-node-label", o.NodeLabel, "docker provider: the container label whose value names the node a container runs (containers named like the node match too).")
	fs.BoolVar(&o.UnbackedNodesExist, "docker-unbacked-nodes-exist", o.UnbackedNodesExist, "docker provider: treat a node with no container (a kubelet on the host) as existing; false lets the lifecycle controller delete nodes whose container is gone.")
	fs.StringVar(&o.Host, "docker-host", o.Host, "docker provider: the Docker engine's address (default $DOCKER_HOST or unix:///var/run/docker.sock).")
}

// Registration registers the provider with its flags.
func Registration() provider.Registration {
	o := DefaultOptions()
	return provider.Registration{
		Name:     Name,
		AddFlags: o.AddFlags,
		New: func(ctx context.Context, cfg provider.Config) (provider.Interface, error) {
			return New(ctx, cfg, o)
		},
	}
}

// Provider is the docker provider.
type Provider struct {
	opts    Options
	cluster string
	log     *zap.Logger
	docker  *dockerclient.Client
}

var (
	_ provider.Interface    = (*Provider)(nil)
	_ provider.Instances    = (*Provider)(nil)
	_ provider.LoadBalancer = (*Provider)(nil)
)

// New connects to the Docker engine (negotiating the API version; engines
// from API 1.40 on are fine) and checks that it answers.
func New(ctx context.Context, cfg provider.Config, o Options) (*Provider, error) {
	if o.Network == "" || o.LBImage == "" || o.NodeLabel == "" {
		return nil, errors.New("--docker-network, --docker-lb-image and --docker-node-label must not be empty")
	}
	opts := []dockerclient.Opt{dockerclient.WithHostFromEnv(), dockerclient.WithAPIVersionNegotiation()}
	if o.Host != "" {
		opts = append(opts, dockerclient.WithHost(o.Host))
	}
	c, err := dockerclient.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.Ping(pctx, dockerclient.PingOptions{NegotiateAPIVersion: true}); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("docker engine: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	return &Provider{opts: o, cluster: cfg.ClusterName, log: log, docker: c}, nil
}

// Close closes the Docker client.
func (p *Provider) Close() error { return p.docker.Close() }

// ProviderName implements provider.Interface.
func (p *Provider) ProviderName() string { return Name }

// Instances implements provider.Interface.
func (p *Provider) Instances() (provider.Instances, bool) { return p, true }

// LoadBalancer implements provider.Interface.
func (p *Provider) LoadBalancer() (provider.LoadBalancer, bool) { return p, true }

// Routes implements provider.Interface: not supported, the dev network is
// flat.
func (p *Provider) Routes() (provider.Routes, bool) { return nil, false }

// nodeContainer finds the container of node name: by label, then by
// container name. It returns nil when there is none.
func (p *Provider) nodeContainer(ctx context.Context, name string) (*container.Summary, error) {
	for _, f := range []dockerclient.Filters{
		make(dockerclient.Filters).Add("label", p.opts.NodeLabel+"="+name),
		make(dockerclient.Filters).Add("name", "^/?"+name+"$"),
	} {
		res, err := p.docker.ContainerList(ctx, dockerclient.ContainerListOptions{All: true, Filters: f})
		if err != nil {
			return nil, fmt.Errorf("list containers of node %s: %w", name, err)
		}
		if len(res.Items) == 0 {
			continue
		}
		// Prefer a running one.
		best := &res.Items[0]
		for i := range res.Items {
			if res.Items[i].State == container.StateRunning {
				best = &res.Items[i]
				break
			}
		}
		return best, nil
	}
	return nil, nil
}

func containerName(c *container.Summary) string {
	if len(c.Names) == 0 {
		return c.ID[:12]
	}
	return strings.TrimPrefix(c.Names[0], "/")
}

// InstanceExists implements provider.Instances.
func (p *Provider) InstanceExists(ctx context.Context, node *corev1.Node) (bool, error) {
	c, err := p.nodeContainer(ctx, node.GetMetadata().GetName())
	if err != nil {
		return false, err
	}
	return c != nil || p.opts.UnbackedNodesExist, nil
}

// InstanceShutdown implements provider.Instances: a container that exists
// but does not run.
func (p *Provider) InstanceShutdown(ctx context.Context, node *corev1.Node) (bool, error) {
	name := node.GetMetadata().GetName()
	c, err := p.nodeContainer(ctx, name)
	if err != nil {
		return false, err
	}
	if c == nil {
		if p.opts.UnbackedNodesExist {
			return false, nil
		}
		return false, fmt.Errorf("node %s: %w", name, provider.ErrInstanceNotFound)
	}
	return c.State != container.StateRunning && c.State != container.StateRestarting, nil
}

// InstanceMetadata implements provider.Instances.
func (p *Provider) InstanceMetadata(ctx context.Context, node *corev1.Node) (*provider.InstanceMetadata, error) {
	name := node.GetMetadata().GetName()
	c, err := p.nodeContainer(ctx, name)
	if err != nil {
		return nil, err
	}
	if c == nil {
		if p.opts.UnbackedNodesExist {
			return &provider.InstanceMetadata{ProviderID: Name + "://" + name, InstanceType: "host"}, nil
		}
		return nil, fmt.Errorf("node %s: %w", name, provider.ErrInstanceNotFound)
	}
	md := &provider.InstanceMetadata{ProviderID: Name + "://" + containerName(c), InstanceType: "container", Zone: "local", Region: "local"}
	if ip := summaryIP(c, p.opts.Network); ip != "" {
		md.Addresses = append(md.Addresses, &corev1.NodeAddress{Type: "InternalIP", Address: ip})
	}
	return md, nil
}

func summaryIP(c *container.Summary, netName string) string {
	if c.NetworkSettings == nil {
		return ""
	}
	if ep, ok := c.NetworkSettings.Networks[netName]; ok && ep != nil && ep.IPAddress.IsValid() {
		return ep.IPAddress.String()
	}
	return ""
}

// GetLoadBalancerName implements provider.LoadBalancer:
// gantry-lb-<cluster>-<namespace>-<name>.
func (p *Provider) GetLoadBalancerName(_ context.Context, clusterName string, svc *corev1.Service) string {
	return "gantry-lb-" + clusterName + "-" + svc.GetMetadata().GetNamespace() + "-" + svc.GetMetadata().GetName()
}

// inspect returns the load balancer's container, or nil.
func (p *Provider) inspect(ctx context.Context, name string) (*container.InspectResponse, error) {
	res, err := p.docker.ContainerInspect(ctx, name, dockerclient.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("inspect load balancer %s: %w", name, err)
	}
	return &res.Container, nil
}

func (p *Provider) containerIP(c *container.InspectResponse) string {
	if c.NetworkSettings == nil {
		return ""
	}
	if ep, ok := c.NetworkSettings.Networks[p.opts.Network]; ok && ep != nil && ep.IPAddress.IsValid() {
		return ep.IPAddress.String()
	}
	return ""
}

// GetLoadBalancer implements provider.LoadBalancer.
func (p *Provider) GetLoadBalancer(ctx context.Context, clusterName string, svc *corev1.Service) (*corev1.LoadBalancerStatus, bool, error) {
	c, err := p.inspect(ctx, p.GetLoadBalancerName(ctx, clusterName, svc))
	if err != nil || c == nil {
		return nil, false, err
	}
	return p.status(c, svc), true, nil
}

func (p *Provider) status(c *container.InspectResponse, svc *corev1.Service) *corev1.LoadBalancerStatus {
	ip := p.containerIP(c)
	if ip == "" {
		return &corev1.LoadBalancerStatus{}
	}
	ing := &corev1.LoadBalancerIngress{Ip: ip, IpMode: proto.String("Proxy")}
	for _, sp := range svc.GetSpec().GetPorts() {
		ps := &corev1.PortStatus{Port: sp.GetPort(), Protocol: protocol(sp)}
		if ps.Protocol != "TCP" {
			ps.Error = proto.String("UnsupportedProtocol")
		}
		ing.Ports = append(ing.Ports, ps)
	}
	return &corev1.LoadBalancerStatus{Ingress: []*corev1.LoadBalancerIngress{ing}}
}

func protocol(sp *corev1.ServicePort) string {
	if sp.GetProtocol() == "" {
		return "TCP"
	}
	return sp.GetProtocol()
}

// Config is the forwarding config of svc over nodes: each TCP port to its
// node port on every node's InternalIP (nodes without one are skipped).
func Config(svc *corev1.Service, nodes []*corev1.Node) lb.Config {
	var ips []string
	for _, n := range nodes {
		for _, a := range n.GetStatus().GetAddresses() {
			if a.GetType() == "InternalIP" && net.ParseIP(a.GetAddress()) != nil {
				ips = append(ips, a.GetAddress())
				break
			}
		}
	}
	sort.Strings(ips)
	ips = slices.Compact(ips) // two nodes may share an address (kubelets on one host)
	var cfg lb.Config
	for _, sp := range svc.GetSpec().GetPorts() {
		if protocol(sp) != "TCP" || sp.GetNodePort() == 0 {
			continue
		}
		l := lb.Listener{Name: sp.GetName(), Port: sp.GetPort(), Protocol: "TCP", Backends: []string{}}
		for _, ip := range ips {
			l.Backends = append(l.Backends, net.JoinHostPort(ip, strconv.Itoa(int(sp.GetNodePort()))))
		}
		cfg.Listeners = append(cfg.Listeners, l)
	}
	cfg.Normalize()
	return cfg
}

// EnsureLoadBalancer implements provider.LoadBalancer.
func (p *Provider) EnsureLoadBalancer(ctx context.Context, clusterName string, svc *corev1.Service, nodes []*corev1.Node) (*corev1.LoadBalancerStatus, error) {
	name := p.GetLoadBalancerName(ctx, clusterName, svc)
	cfg, err := Config(svc, nodes).Marshal()
	if err != nil {
		return nil, err
	}
	c, err := p.inspect(ctx, name)
	if err != nil {
		return nil, err
	}
	if c != nil && c.Config != nil && c.Config.Labels[LabelServiceUID] != svc.GetMetadata().GetUid() {
		// A load balancer of an earlier service of the same name: start over.
		p.log.Info("replacing load balancer of an earlier service", zap.String("name", name))
		if err := p.remove(ctx, name); err != nil {
			return nil, err
		}
		c = nil
	}
	if c == nil {
		if c, err = p.create(ctx, name, clusterName, svc, cfg); err != nil {
			return nil, err
		}
	} else if err := p.configure(ctx, c, cfg); err != nil {
		return nil, err
	}
	st := p.status(c, svc)
	if len(st.GetIngress()) == 0 {
		return nil, fmt.Errorf("load balancer %s has no address on network %s", name, p.opts.Network)
	}
	return st, nil
}

// create starts a new load balancer container with cfg.
func (p *Provider) create(ctx context.Context, name, clusterName string, svc *corev1.Service, cfg []byte) (*container.InspectResponse, error) {
	m := svc.GetMetadata()
	res, err := p.docker.ContainerCreate(ctx, dockerclient.ContainerCreateOptions{
		Name: name,
		Config: &container.Config{
			Image: p.opts.LBImage,
			Labels: map[string]string{
				LabelCluster:    clusterName,
				LabelService:    m.GetNamespace() + "/" + m.GetName(),
				LabelServiceUID: m.GetUid(),
			},
		},
		HostConfig: &container.HostConfig{
			NetworkMode:   container.NetworkMode(p.opts.Network),
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
		},
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{p.opts.Network: {}}},
	})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("create load balancer %s: %w (build the image with hack/images/lb/build.sh; is network %q there?)", name, err, p.opts.Network)
		}
		return nil, fmt.Errorf("create load balancer %s: %w", name, err)
	}
	if err := p.writeConfig(ctx, res.ID, cfg); err != nil {
		_ = p.remove(ctx, res.ID)
		return nil, err
	}
	if _, err := p.docker.ContainerStart(ctx, res.ID, dockerclient.ContainerStartOptions{}); err != nil {
		_ = p.remove(ctx, res.ID)
		return nil, fmt.Errorf("start load balancer %s: %w", name, err)
	}
	p.log.Info("created load balancer", zap.String("name", name), zap.String("id", res.ID[:12]))
	c, err := p.inspect(ctx, res.ID)
	if err == nil && c == nil {
		err = fmt.Errorf("load balancer %s vanished after start", name)
	}
	return c, err
}

// configure brings a running load balancer's config to cfg (and starts it
// if it stopped).
func (p *Provider) configure(ctx context.Context, c *container.InspectResponse, cfg []byte) error {
	cur, err := p.readConfig(ctx, c.ID)
	if err != nil {
		return err
	}
	changed := !bytes.Equal(cur, cfg)
	if changed {
		if err := p.writeConfig(ctx, c.ID, cfg); err != nil {
			return err
		}
	}
	if c.State == nil || !c.State.Running {
		if _, err := p.docker.ContainerStart(ctx, c.ID, dockerclient.ContainerStartOptions{}); err != nil {
			return fmt.Errorf("start load balancer %s: %w", c.Name, err)
		}
		fresh, err := p.inspect(ctx, c.ID)
		if err != nil {
			return err
		}
		if fresh != nil {
			*c = *fresh
		}
		return nil
	}
	if changed {
		if _, err := p.docker.ContainerKill(ctx, c.ID, dockerclient.ContainerKillOptions{Signal: "HUP"}); err != nil {
			return fmt.Errorf("signal load balancer %s to reload: %w", c.Name, err)
		}
		p.log.Info("reconfigured load balancer", zap.String("name", strings.TrimPrefix(c.Name, "/")))
	}
	return nil
}

// writeConfig puts cfg at lb.ConfigPath in the container.
func (p *Provider) writeConfig(ctx context.Context, id string, cfg []byte) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := strings.TrimPrefix(lb.ConfigPath[:strings.LastIndex(lb.ConfigPath, "/")], "/")
	now := time.Now()
	parts := strings.Split(dir, "/")
	for i := range parts {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.Join(parts[:i+1], "/") + "/", Mode: 0o755, ModTime: now}); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(lb.ConfigPath, "/"), Mode: 0o644, Size: int64(len(cfg)), ModTime: now}); err != nil {
		return err
	}
	if _, err := tw.Write(cfg); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if _, err := p.docker.CopyToContainer(ctx, id, dockerclient.CopyToContainerOptions{DestinationPath: "/", Content: &buf}); err != nil {
		return fmt.Errorf("write load balancer config: %w", err)
	}
	return nil
}

// readConfig reads the config in the container (nil if there is none).
func (p *Provider) readConfig(ctx context.Context, id string) ([]byte, error) {
	res, err := p.docker.CopyFromContainer(ctx, id, dockerclient.CopyFromContainerOptions{SourcePath: lb.ConfigPath})
	if cerrdefs.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read load balancer config: %w", err)
	}
	defer res.Content.Close()
	tr := tar.NewReader(res.Content)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read load balancer config: %w", err)
		}
		if h.Typeflag == tar.TypeReg {
			return io.ReadAll(io.LimitReader(tr, 1<<20))
		}
	}
}

// ReadConfig returns the forwarding config of svc's load balancer, for tests
// and debugging.
func (p *Provider) ReadConfig(ctx context.Context, clusterName string, svc *corev1.Service) (*lb.Config, error) {
	data, err := p.readConfig(ctx, p.GetLoadBalancerName(ctx, clusterName, svc))
	if err != nil {
		return nil, err
	}
	if data == nil {
		return nil, errors.New("no config")
	}
	return lb.ParseConfig(data)
}

// UpdateLoadBalancer implements provider.LoadBalancer.
func (p *Provider) UpdateLoadBalancer(ctx context.Context, clusterName string, svc *corev1.Service, nodes []*corev1.Node) error {
	name := p.GetLoadBalancerName(ctx, clusterName, svc)
	c, err := p.inspect(ctx, name)
	if err != nil {
		return err
	}
	if c == nil {
		return fmt.Errorf("load balancer %s does not exist", name)
	}
	cfg, err := Config(svc, nodes).Marshal()
	if err != nil {
		return err
	}
	return p.configure(ctx, c, cfg)
}

// EnsureLoadBalancerDeleted implements provider.LoadBalancer.
func (p *Provider) EnsureLoadBalancerDeleted(ctx context.Context, clusterName string, svc *corev1.Service) error {
	name := p.GetLoadBalancerName(ctx, clusterName, svc)
	if err := p.remove(ctx, name); err != nil {
		return err
	}
	p.log.Info("deleted load balancer", zap.String("name", name))
	return nil
}

func (p *Provider) remove(ctx context.Context, id string) error {
	_, err := p.docker.ContainerRemove(ctx, id, dockerclient.ContainerRemoveOptions{Force: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove load balancer %s: %w", id, err)
	}
	return nil
}
