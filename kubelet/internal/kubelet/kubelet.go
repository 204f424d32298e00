package kubelet

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/kubelet/internal/runtime"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Config is what a Kubelet needs. Zero durations take the defaults named.
type Config struct {
	NodeName string
	Client   *client.Clientset
	Runtime  runtime.Runtime
	Logger   *zap.Logger

	// NodeLabels are added to the Node's labels (beside kubernetes.io/*).
	NodeLabels map[string]string
	// RegisterWithTaints are the Node's taints when the kubelet creates it.
	RegisterWithTaints []*corev1.Taint
	// Capacity overrides the detected capacity ("cpu", "memory", "pods",
	// "ephemeral-storage") with quantities.
	Capacity map[string]string
	// NodeIP is the node's InternalIP (default: detected).
	NodeIP string
	// Hostname is the node's Hostname address (default: os.Hostname).
	Hostname string
	// Port is the kubelet's gRPC port, reported in the node status.
	Port int32
	// Version is the kubelet's version, reported in nodeInfo.
	Version string
	// RootDir holds pod volumes (empty dirs); reported as
	// ephemeral-storage capacity.
	RootDir string

	// LeaseDuration is the Lease's leaseDurationSeconds (40).
	LeaseDuration time.Duration
	// LeaseRenewInterval is how often the Lease is renewed (10s).
	LeaseRenewInterval time.Duration
	// NodeStatusUpdateFrequency is how often node status is computed and
	// written when it changed (10s).
	NodeStatusUpdateFrequency time.Duration
	// NodeStatusReportFrequency is how often node status is written even
	// when nothing changed (1m).
	NodeStatusReportFrequency time.Duration
	// CrashLoopBackOffInitial and CrashLoopBackOffMax bound the restart
	// back-off of a crashing container (10s doubling to 5m).
	CrashLoopBackOffInitial, CrashLoopBackOffMax time.Duration
	// ImagePullBackOffInitial and ImagePullBackOffMax bound the back-off of
	// failed pulls (10s doubling to 5m).
	ImagePullBackOffInitial, ImagePullBackOffMax time.Duration
	// ResyncInterval is how often every pod is synced and orphaned
	// containers looked for, beside events (30s).
	ResyncInterval time.Duration
	// ImagePullFallbackLocal, under imagePullPolicy Always, runs the local
	// copy of an image when the pull fails (this machine has no registry).
	ImagePullFallbackLocal bool
	// Ready, if set, is called once the node is registered and the pod
	// cache synced.
	Ready func()
	// Recorder records the pods' events (Pulled, Started, Killing,
	// BackOff, Unhealthy, ...); nil records none.
	Recorder record.EventRecorder
	// Metrics, when set, are updated (NewMetrics registers them).
	Metrics *Metrics
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.LeaseDuration, 40*time.Second)
	def(&c.LeaseRenewInterval, 10*time.Second)
	def(&c.NodeStatusUpdateFrequency, 10*time.Second)
	def(&c.NodeStatusReportFrequency, time.Minute)
	def(&c.CrashLoopBackOffInitial, 10*time.Second)
	def(&c.CrashLoopBackOffMax, 5*time.Minute)
	def(&c.ImagePullBackOffInitial, 10*time.Second)
	def(&c.ImagePullBackOffMax, 5*time.Minute)
	def(&c.ResyncInterval, 30*time.Second)
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Recorder == nil {
		c.Recorder = nopRecorder{}
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics(nil)
	}
	if c.Version == "" {
		c.Version = "v0.0.0-dev"
	}
}

// Kubelet is the node agent. Make it with New and run it with Run.
type Kubelet struct {
	cfg Config
	cs  *client.Clientset
	rt  runtime.Runtime
	log *zap.Logger

	crashBackoff *backoff
	pullBackoff  *backoff
	workers      *podWorkers
	prober       *prober
	podInformer  *informer.Informer[*corev1.Pod]

	mu sync.Mutex
	// pods are the pods bound to the node, by uid, as the informer last
	// saw them.
	pods map[string]*corev1.Pod
	// gone are the last seen states of pods removed from the apiserver,
	// until their containers are gone.
	gone map[string]*corev1.Pod
	// written is the status this kubelet last wrote of each pod, so that
	// the informer's echo of its own write does not cause another sync.
	written map[string]*corev1.PodStatus
	// pullFailures remembers when pulling an image failed, so that a
	// failing registry is not asked on every start (ImagePullFallbackLocal).
	pullFailures map[string]time.Time
	// startErrs are the last start errors of containers (uid/name) that
	// never ran, shown while they back off.
	startErrs map[string]waiting
	// terminated are the pods this kubelet killed and deleted, until the
	// informer reports them gone.
	terminated map[string]bool
	// firstSeen is when the kubelet first saw each pod, until it runs (for
	// the pod start metric).
	firstSeen map[string]time.Time

	nodeMu   sync.Mutex
	node     *corev1.Node // as last written
	hostIP   string
	podCIDR  string
	lastNode time.Time
}

// New checks cfg and returns a Kubelet.
func New(cfg Config) (*Kubelet, error) {
	if cfg.NodeName == "" {
		return nil, errors.New("kubelet: no node name")
	}
	if cfg.Client == nil || cfg.Runtime == nil {
		return nil, errors.New("kubelet: client and runtime are required")
	}
	cfg.setDefaults()
	k := &Kubelet{
		cfg:          cfg,
		cs:           cfg.Client,
		rt:           cfg.Runtime,
		log:          cfg.Logger,
		crashBackoff: newBackoff(cfg.CrashLoopBackOffInitial, cfg.CrashLoopBackOffMax),
		pullBackoff:  newBackoff(cfg.ImagePullBackOffInitial, cfg.ImagePullBackOffMax),
		pods:         map[string]*corev1.Pod{},
		gone:         map[string]*corev1.Pod{},
		written:      map[string]*corev1.PodStatus{},
		pullFailures: map[string]time.Time{},
		startErrs:    map[string]waiting{},
		terminated:   map[string]bool{},
		firstSeen:    map[string]time.Time{},
	}
	return k, nil
}

// Run registers the node and runs its pods until ctx ends. It leaves the
// pods' containers running when it returns: a restarted kubelet adopts
// them.
func (k *Kubelet) Run(ctx context.Context) error {
	k.workers = newPodWorkers(ctx, func(ctx context.Context, uid string) (time.Duration, bool, error) {
		start := time.Now()
		requeue, done, err := k.syncPod(ctx, uid)
		k.cfg.Metrics.observeSync(start, err)
		return requeue, done, err
	}, k.cfg.ResyncInterval, k.log)
	k.prober = newProber(ctx, k.rt, k.workers.enqueue, k.log.Named("prober"))
	k.prober.rec = k.cfg.Recorder
	defer k.workers.wait()

	if err := k.registerNode(ctx); err != nil {
		return err
	}
	lw := client.For[*corev1.Pod](k.cs, "")
	k.podInformer = informer.New[*corev1.Pod](lw, informer.Options{
		FieldSelector: "spec.nodeName=" + k.cfg.NodeName,
		Logger:        k.log.Named("informer"),
	})
	k.podInformer.AddEventHandler(informer.Handler[*corev1.Pod]{
		OnAdd:    func(p *corev1.Pod) { k.podChanged(p) },
		OnUpdate: func(_, p *corev1.Pod) { k.podChanged(p) },
		OnDelete: k.podRemoved,
	})
	var wg sync.WaitGroup
	defer wg.Wait()
	if k.rt.Type() != "fake" {
		// The node's podCIDR (set by the node IPAM controller after
		// registration) is where pod IPs come from.
		nodeInf := informer.New[*corev1.Node](client.For[*corev1.Node](k.cs, ""), informer.Options{
			FieldSelector: "metadata.name=" + k.cfg.NodeName,
			Logger:        k.log.Named("informer"),
		})
		nodeInf.AddEventHandler(informer.Handler[*corev1.Node]{
			OnAdd:    k.nodeChanged,
			OnUpdate: func(_, n *corev1.Node) { k.nodeChanged(n) },
		})
		wg.Add(1)
		go func() { defer wg.Done(); nodeInf.Run(ctx) }()
	}
	wg.Add(4)
	go func() { defer wg.Done(); k.podInformer.Run(ctx) }()
	go func() { defer wg.Done(); k.leaseLoop(ctx) }()
	go func() { defer wg.Done(); k.nodeStatusLoop(ctx) }()
	go func() { defer wg.Done(); k.runtimeEvents(ctx) }()
	if !informer.WaitForCacheSync(ctx, k.podInformer.HasSynced) {
		return ctx.Err()
	}
	k.log.Info("pod cache synced", zap.String("node", k.cfg.NodeName))
	k.removeOrphans(ctx)
	if k.cfg.Ready != nil {
		k.cfg.Ready()
	}
	t := time.NewTicker(k.cfg.ResyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			k.removeOrphans(ctx)
		}
	}
}

// removeOrphans wakes the workers of pods the runtime holds containers of
// but the apiserver does not know, which remove them. Known pods are woken
// by the informer (every pod of the first listing too) and synced again
// by their own workers.
func (k *Kubelet) removeOrphans(ctx context.Context) {
	list, err := k.rt.ListPods(ctx)
	if err != nil {
		k.log.Warn("list runtime pods", zap.Error(err))
		return
	}
	for _, p := range list {
		k.mu.Lock()
		_, known := k.pods[p.UID]
		k.mu.Unlock()
		if !known && p.UID != "" {
			k.workers.enqueue(p.UID)
		}
	}
}

func (k *Kubelet) runtimeEvents(ctx context.Context) {
	ch := k.rt.Events()
	for {
		select {
		case <-ctx.Done():
			return
		case uid, ok := <-ch:
			if !ok {
				return
			}
			if uid != "" {
				k.workers.enqueue(uid)
			}
		}
	}
}

func (k *Kubelet) nodeChanged(n *corev1.Node) {
	cidr := n.GetSpec().GetPodCidr()
	k.nodeMu.Lock()
	changed := k.podCIDR != cidr
	k.podCIDR = cidr
	// Someone else changed the Ready condition (the node lifecycle
	// controller marks it Unknown when the Lease went unrenewed, e.g. while
	// the apiserver restarted): write the status at the next tick rather
	// than after NodeStatusReportFrequency, as the kubelet compares its
	// status with its own last write.
	if k.node != nil && nodeReadyStatus(k.node) != nodeReadyStatus(n) {
		k.lastNode = time.Time{}
	}
	k.nodeMu.Unlock()
	if changed {
		k.log.Info("node podCIDR", zap.String("podCIDR", cidr))
	}
}

func nodeReadyStatus(n *corev1.Node) string {
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus()
		}
	}
	return ""
}

func (k *Kubelet) podChanged(p *corev1.Pod) {
	uid := p.GetMetadata().GetUid()
	k.mu.Lock()
	old := k.pods[uid]
	k.pods[uid] = p
	if old == nil {
		k.firstSeen[uid] = time.Now()
	}
	k.cfg.Metrics.pods.Set(float64(len(k.pods)))
	echo := old != nil && k.written[uid] != nil &&
		proto.Equal(k.written[uid], p.GetStatus()) &&
		proto.Equal(old.GetSpec(), p.GetSpec()) &&
		proto.Equal(old.GetMetadata().GetDeletionTimestamp(), p.GetMetadata().GetDeletionTimestamp())
	k.mu.Unlock()
	if !echo {
		k.workers.enqueue(uid)
	}
}

func (k *Kubelet) podRemoved(p *corev1.Pod) {
	uid := p.GetMetadata().GetUid()
	k.mu.Lock()
	delete(k.pods, uid)
	delete(k.firstSeen, uid)
	k.cfg.Metrics.pods.Set(float64(len(k.pods)))
	delete(k.written, uid)
	delete(k.terminated, uid)
	k.gone[uid] = p
	k.mu.Unlock()
	k.workers.enqueue(uid)
}

// Pod returns the cached pod namespace/name bound to this node.
func (k *Kubelet) Pod(namespace, name string) (*corev1.Pod, error) {
	if k.podInformer == nil {
		return nil, fmt.Errorf("kubelet not running")
	}
	return k.podInformer.Lister().Get(namespace, name)
}

// Runtime is the kubelet's runtime.
func (k *Kubelet) Runtime() runtime.Runtime { return k.rt }

type nopRecorder struct{}

func (nopRecorder) Event(scheme.Object, string, string, string)          {}
func (nopRecorder) Eventf(scheme.Object, string, string, string, ...any) {}
