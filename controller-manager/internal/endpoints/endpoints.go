package endpoints

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/workqueue"
	"github.com/gantryhq/gantry/controller-manager/internal/controller"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Name is the controller's name in --controllers.
const Name = "endpoints"

// Controller is the Endpoints controller.
type Controller struct {
	cc     *controller.Context
	log    *zap.Logger
	queue  workqueue.Interface
	svcLs  informer.Lister[*corev1.Service]
	podLs  informer.Lister[*corev1.Pod]
	epLs   informer.Lister[*corev1.Endpoints]
	synced []func() bool
}

// New makes the controller and registers its informers' handlers.
func New(cc *controller.Context) *Controller {
	svcInf, podInf, epInf := cc.Informers.Services(), cc.Informers.Pods(), cc.Informers.Endpoints()
	c := &Controller{cc: cc, log: cc.Logger.Named(Name), queue: workqueue.New(Name),
		svcLs: svcInf.Lister(), podLs: podInf.Lister(), epLs: epInf.Lister(),
		synced: []func() bool{svcInf.HasSynced, podInf.HasSynced, epInf.HasSynced}}
	svcInf.AddEventHandler(informer.Handler[*corev1.Service]{
		OnAdd:    func(s *corev1.Service) { controller.Enqueue(c.queue, s) },
		OnUpdate: func(_, s *corev1.Service) { controller.Enqueue(c.queue, s) },
		OnDelete: func(s *corev1.Service) { controller.Enqueue(c.queue, s) },
	})
	podInf.AddEventHandler(informer.Handler[*corev1.Pod]{
		OnAdd: c.podChanged,
		OnUpdate: func(old, p *corev1.Pod) {
			if old.GetMetadata().GetResourceVersion() == p.GetMetadata().GetResourceVersion() {
				return
			}
			c.podChanged(p)
			if !maps.Equal(old.GetMetadata().GetLabels(), p.GetMetadata().GetLabels()) {
				c.podChanged(old)
			}
		},
		OnDelete: c.podChanged,
	})
	epInf.AddEventHandler(informer.Handler[*corev1.Endpoints]{
		// An Endpoints changed or removed by someone else is put back.
		OnDelete: func(e *corev1.Endpoints) { controller.Enqueue(c.queue, e) },
	})
	return c
}

func (c *Controller) podChanged(p *corev1.Pod) {
	for _, s := range c.svcLs.ListNamespace(p.GetMetadata().GetNamespace(), nil) {
		sel := s.GetSpec().GetSelector()
		if len(sel) == 0 {
			continue
		}
		if labels.SelectorFromSet(sel).Matches(labels.Set(p.GetMetadata().GetLabels())) {
			controller.Enqueue(c.queue, s)
		}
	}
}

// Name implements controller.Controller.
func (c *Controller) Name() string { return Name }

// Run implements controller.Controller.
func (c *Controller) Run(ctx context.Context, workers int) {
	if !informer.WaitForCacheSync(ctx, c.synced...) {
		return
	}
	c.cc.RunWorkers(ctx, Name, c.log, c.queue, workers, c.Sync)
}

// Sync reconciles the Endpoints of the Service key names.
func (c *Controller) Sync(ctx context.Context, key string) error {
	ns, name, err := workqueue.SplitKey(key)
	if err != nil {
		return nil
	}
	eps := c.cc.Client.Endpoints(ns)
	svc, err := c.svcLs.Get(ns, name)
	if client.IsNotFound(err) {
		if _, err := c.epLs.Get(ns, name); err == nil {
			if err := eps.Delete(ctx, name, client.DeleteOptions{}); err != nil && !client.IsNotFound(err) {
				return fmt.Errorf("delete endpoints %s: %w", key, err)
			}
		}
		return nil
	}
	if err != nil {
		return err
	}
	sel := svc.GetSpec().GetSelector()
	if len(sel) == 0 || svc.GetSpec().GetType() == "ExternalName" {
		return nil // endpoints managed by someone else
	}
	pods := c.podLs.ListNamespace(ns, labels.SelectorFromSet(sel))
	subsets := Subsets(svc, pods)
	cur, err := c.epLs.Get(ns, name)
	if err == nil {
		if proto.Equal(&corev1.Endpoints{Subsets: subsets}, &corev1.Endpoints{Subsets: cur.GetSubsets()}) &&
			maps.Equal(cur.GetMetadata().GetLabels(), svc.GetMetadata().GetLabels()) {
			return nil
		}
		up := proto.Clone(cur).(*corev1.Endpoints)
		up.Subsets = subsets
		up.Metadata.Labels = maps.Clone(svc.GetMetadata().GetLabels())
		if _, err := eps.Update(ctx, up); err != nil {
			return fmt.Errorf("update endpoints %s: %w", key, err)
		}
		return nil
	}
	ep := &corev1.Endpoints{
		Metadata: &metav1.ObjectMeta{Name: name, Namespace: ns, Labels: maps.Clone(svc.GetMetadata().GetLabels())},
		Subsets:  subsets,
	}
	if _, err := eps.Create(ctx, ep); err != nil {
		return fmt.Errorf("create endpoints %s: %w", key, err)
	}
	return nil
}

// Subsets computes the endpoints of svc over the pods its selector
// matches, packed so that addresses with the same resolved ports share a
// subset, sorted for a stable result.
func Subsets(svc *corev1.Service, pods []*corev1.Pod) []*corev1.EndpointSubset {
	publishNotReady := svc.GetSpec().GetPublishNotReadyAddresses()
	byPorts := map[string]*corev1.EndpointSubset{}
	for _, p := range pods {
		ip := p.GetStatus().GetPodIp()
		if ip == "" {
			continue
		}
		if ph := p.GetStatus().GetPhase(); ph == "Succeeded" || ph == "Failed" {
			continue
		}
		if p.GetMetadata().GetDeletionTimestamp() != nil && !publishNotReady {
			continue
		}
		var ports []*corev1.EndpointPort
		for _, sp := range svc.GetSpec().GetPorts() {
			port, ok := resolvePort(p, sp)
			if !ok {
				continue
			}
			proto := sp.GetProtocol()
			if proto == "" {
				proto = "TCP"
			}
			ep := &corev1.EndpointPort{Name: sp.GetName(), Port: port, Protocol: proto}
			if sp.AppProtocol != nil {
				ep.AppProtocol = sp.AppProtocol
			}
			ports = append(ports, ep)
		}
		if len(ports) == 0 && len(svc.GetSpec().GetPorts()) > 0 {
			continue
		}
		m := p.GetMetadata()
		addr := &corev1.EndpointAddress{Ip: ip, TargetRef: &corev1.ObjectReference{
			Kind: "Pod", Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid()}}
		if n := p.GetSpec().GetNodeName(); n != "" {
			addr.NodeName = &n
		}
		if h := p.GetSpec().GetHostname(); h != "" && p.GetSpec().GetSubdomain() == svc.GetMetadata().GetName() {
			addr.Hostname = h
		}
		k := portsKey(ports)
		ss, ok := byPorts[k]
		if !ok {
			ss = &corev1.EndpointSubset{Ports: ports}
			byPorts[k] = ss
		}
		if controller.IsPodReady(p) || publishNotReady {
			ss.Addresses = append(ss.Addresses, addr)
		} else {
			ss.NotReadyAddresses = append(ss.NotReadyAddresses, addr)
		}
	}
	keys := make([]string, 0, len(byPorts))
	for k := range byPorts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*corev1.EndpointSubset
	for _, k := range keys {
		ss := byPorts[k]
		sortAddrs(ss.Addresses)
		sortAddrs(ss.NotReadyAddresses)
		out = append(out, ss)
	}
	return out
}

// resolvePort is the pod's port for a service port: a numeric targetPort
// as is, a named one looked up among the pod's container ports, none the
// service port itself.
func resolvePort(p *corev1.Pod, sp *corev1.ServicePort) (int32, bool) {
	switch v := sp.GetTargetPort().GetValue().(type) {
	case *metav1.IntOrString_IntVal:
		return v.IntVal, true
	case *metav1.IntOrString_StrVal:
		if n, err := strconv.Atoi(v.StrVal); err == nil {
			return int32(n), true
		}
		proto := sp.GetProtocol()
		if proto == "" {
			proto = "TCP"
		}
		for _, ctr := range p.GetSpec().GetContainers() {
			for _, cp := range ctr.GetPorts() {
				cpp := cp.GetProtocol()
				if cpp == "" {
					cpp = "TCP"
				}
				if cp.GetName() == v.StrVal && cpp == proto {
					return cp.GetContainerPort(), true
				}
			}
		}
		return 0, false
	}
	return sp.GetPort(), true
}

func portsKey(ports []*corev1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "%s/%d/%s;", p.Name, p.Port, p.Protocol)
	}
	return b.String()
}

func sortAddrs(a []*corev1.EndpointAddress) {
	sort.Slice(a, func(i, j int) bool {
		if a[i].Ip != a[j].Ip {
			return a[i].Ip < a[j].Ip
		}
		return a[i].GetTargetRef().GetName() < a[j].GetTargetRef().GetName()
	})
}
