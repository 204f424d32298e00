package kubelet

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/client"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// maxNodeImages bounds the images a node status lists (the largest), as
// Kubernetes' nodeStatusMaxImages.
const maxNodeImages = 50

// NodeLeaseNamespace holds the kubelets' heartbeat Leases.
const NodeLeaseNamespace = "kube-node-lease"

// The well-known labels a kubelet puts on its Node.
const (
	LabelHostname = "kubernetes.io/hostname"
	LabelOS       = "kubernetes.io/os"
	LabelArch     = "kubernetes.io/arch"
)

// hostInfo is what is read of the machine once per process (hollow nodes
// share it).
type hostInfo struct {
	cpu, memory, storage string
	machineID, bootID    string
	systemUUID           string
	kernel, osImage      string
	ip, hostname         string
}

var (
	hostOnce sync.Once
	host     hostInfo
)

func readHost(rootDir string) hostInfo {
	hostOnce.Do(func() {
		h := hostInfo{cpu: strconv.Itoa(goruntime.NumCPU())}
		if f, err := os.Open("/proc/meminfo"); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				fs := strings.Fields(sc.Text())
				if len(fs) >= 2 && fs[0] == "MemTotal:" {
					h.memory = fs[1] + "Ki"
				}
			}
			f.Close()
		}
		dir := rootDir
		if dir == "" {
			dir = "/"
		}
		var sfs syscall.Statfs_t
		if err := syscall.Statfs(dir, &sfs); err == nil {
			h.storage = strconv.FormatUint(sfs.Blocks*uint64(sfs.Bsize), 10)
		}
		read := func(p string) string {
			b, _ := os.ReadFile(p)
			return strings.TrimSpace(string(b))
		}
		h.machineID = read("/etc/machine-id")
		h.bootID = read("/proc/sys/kernel/random/boot_id")
		h.systemUUID = read("/sys/class/dmi/id/product_uuid")
		h.kernel = read("/proc/sys/kernel/osrelease")
		for _, line := range strings.Split(read("/etc/os-release"), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				h.osImage = strings.Trim(v, `"`)
			}
		}
		h.hostname, _ = os.Hostname()
		h.ip = detectIP()
		host = h
	})
	return host
}

// detectIP is the first IPv4 address of an up, non-loopback interface that
// is not a container bridge.
func detectIP() string {
	ifs, err := net.Interfaces()
	if err != nil {
		return "127.0.0.1"
	}
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 ||
			strings.HasPrefix(i.Name, "docker") || strings.HasPrefix(i.Name, "br-") || strings.HasPrefix(i.Name, "veth") {
			continue
		}
		addrs, _ := i.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

func (k *Kubelet) nodeIP() string {
	if k.cfg.NodeIP != "" {
		return k.cfg.NodeIP
	}
	return readHost(k.cfg.RootDir).ip
}

func (k *Kubelet) hostname() string {
	if k.cfg.Hostname != "" {
		return k.cfg.Hostname
	}
	return k.cfg.NodeName
}

// nodeLabels are the labels the kubelet owns on its Node.
func (k *Kubelet) nodeLabels() map[string]string {
	l := map[string]string{
		LabelHostname: k.hostname(),
		LabelOS:       goruntime.GOOS,
		LabelArch:     goruntime.GOARCH,
	}
	for key, v := range k.cfg.NodeLabels {
		l[key] = v
	}
	return l
}

// registerNode creates the Node, or takes over an existing one (updating
// the labels the kubelet owns), retrying until it succeeds or ctx ends.
func (k *Kubelet) registerNode(ctx context.Context) error {
	k.nodeMu.Lock()
	k.hostIP = k.nodeIP()
	k.nodeMu.Unlock()
	delay := 100 * time.Millisecond
	for {
		err := k.tryRegister(ctx)
		if err == nil {
			break
		}
		k.log.Warn("register node", zap.Error(err), zap.Duration("retryIn", delay))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, 7*time.Second)
	}
	k.log.Info("node registered", zap.String("node", k.cfg.NodeName))
	return nil
}

func (k *Kubelet) tryRegister(ctx context.Context) error {
	nodes := k.cs.Nodes()
	want := &corev1.Node{
		Metadata: &metav1.ObjectMeta{Name: k.cfg.NodeName, Labels: k.nodeLabels()},
		Spec:     &corev1.NodeSpec{Taints: k.cfg.RegisterWithTaints},
	}
	node, err := nodes.Create(ctx, want)
	if client.IsAlreadyExists(err) {
		err = client.RetryOnConflict(ctx, func() error {
			node, err = nodes.Get(ctx, k.cfg.NodeName)
			if err != nil {
				return err
			}
			changed := false
			if node.Metadata.Labels == nil {
				node.Metadata.Labels = map[string]string{}
			}
			for key, v := range want.Metadata.Labels {
				if node.Metadata.Labels[key] != v {
					node.Metadata.Labels[key] = v
					changed = true
				}
			}
			if changed {
				node, err = nodes.Update(ctx, node)
			}
			return err
		})
	}
	if err != nil {
		return err
	}
	return k.writeNodeStatus(ctx, node)
}

// nodeStatus is the node's status now; old supplies transition times.
func (k *Kubelet) nodeStatus(ctx context.Context, old *corev1.NodeStatus) *corev1.NodeStatus {
	h := readHost(k.cfg.RootDir)
	capacity := map[string]string{"cpu": h.cpu, "memory": h.memory, "pods": "110", "ephemeral-storage": h.storage}
	for key, v := range k.cfg.Capacity {
		capacity[key] = v
	}
	st := &corev1.NodeStatus{
		Capacity:    map[string]*metav1.Quantity{},
		Allocatable: map[string]*metav1.Quantity{},
		Addresses: []*corev1.NodeAddress{
			{Type: "InternalIP", Address: k.nodeIP()},
			{Type: "Hostname", Address: k.hostname()},
		},
		DaemonEndpoints: &corev1.NodeDaemonEndpoints{KubeletEndpoint: &corev1.DaemonEndpoint{Port: k.cfg.Port}},
		NodeInfo: &corev1.NodeSystemInfo{
			MachineId:       h.machineID,
			SystemUuid:      h.systemUUID,
			BootId:          h.bootID,
			KernelVersion:   h.kernel,
			OsImage:         h.osImage,
			KubeletVersion:  k.cfg.Version,
			OperatingSystem: goruntime.GOOS,
			Architecture:    goruntime.GOARCH,
		},
	}
	for key, v := range capacity {
		if v == "" {
			continue
		}
		st.Capacity[key] = &metav1.Quantity{Value: v}
		st.Allocatable[key] = &metav1.Quantity{Value: v}
	}
	ready, reason, message := true, "KubeletReady", "kubelet is posting ready status"
	if v, err := k.rt.Version(ctx); err != nil {
		ready, reason, message = false, "KubeletNotReady", "container runtime is down: "+err.Error()
	} else {
		st.NodeInfo.ContainerRuntimeVersion = k.rt.Type() + "://" + v
	}
	if images, err := k.rt.ListImages(ctx); err == nil {
		sort.SliceStable(images, func(i, j int) bool { return images[i].SizeBytes > images[j].SizeBytes })
		for i, im := range images {
			if i == maxNodeImages {
				break
			}
			st.Images = append(st.Images, &corev1.ContainerImage{Names: im.Names, SizeBytes: im.SizeBytes})
		}
	}
	now := timestamppb.Now()
	oldConds := map[string]*corev1.NodeCondition{}
	for _, c := range old.GetConditions() {
		oldConds[c.GetType()] = c
	}
	cond := func(typ string, ok bool, reason, message string) {
		s := "False"
		if ok {
			s = "True"
		}
		c := &corev1.NodeCondition{Type: typ, Status: s, Reason: reason, Message: message, LastHeartbeatTime: now, LastTransitionTime: now}
		if o := oldConds[typ]; o != nil && o.GetStatus() == s && o.GetLastTransitionTime() != nil {
			c.LastTransitionTime = o.GetLastTransitionTime()
		}
		st.Conditions = append(st.Conditions, c)
	}
	cond("MemoryPressure", false, "KubeletHasSufficientMemory", "kubelet has sufficient memory available")
	cond("DiskPressure", false, "KubeletHasNoDiskPressure", "kubelet has no disk pressure")
	cond("PIDPressure", false, "KubeletHasSufficientPID", "kubelet has sufficient PID available")
	cond("Ready", ready, reason, message)
	return st
}

// sameNodeStatus compares two statuses, heartbeat times aside.
func sameNodeStatus(a, b *corev1.NodeStatus) bool {
	strip := func(s *corev1.NodeStatus) *corev1.NodeStatus {
		s = proto.Clone(s).(*corev1.NodeStatus)
		for _, c := range s.GetConditions() {
			c.LastHeartbeatTime = nil
		}
		return s
	}
	return proto.Equal(strip(a), strip(b))
}

// writeNodeStatus writes the node's status onto node (as read).
func (k *Kubelet) writeNodeStatus(ctx context.Context, node *corev1.Node) error {
	nodes := k.cs.Nodes()
	return client.RetryOnConflict(ctx, func() error {
		next := proto.Clone(node).(*corev1.Node)
		next.Status = k.nodeStatus(ctx, node.GetStatus())
		out, err := nodes.UpdateStatus(ctx, next)
		if client.IsConflict(err) {
			if fresh, gerr := nodes.Get(ctx, k.cfg.NodeName); gerr == nil {
				node = fresh
			}
		}
		if err != nil {
			return err
		}
		k.nodeMu.Lock()
		k.node, k.lastNode = out, time.Now()
		k.nodeMu.Unlock()
		return nil
	})
}

// nodeStatusLoop writes the node status when it changes, and at least every
// NodeStatusReportFrequency.
func (k *Kubelet) nodeStatusLoop(ctx context.Context) {
	t := time.NewTicker(k.cfg.NodeStatusUpdateFrequency)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		k.nodeMu.Lock()
		node, last := k.node, k.lastNode
		k.nodeMu.Unlock()
		if node != nil && time.Since(last) < k.cfg.NodeStatusReportFrequency && sameNodeStatus(node.GetStatus(), k.nodeStatus(ctx, node.GetStatus())) {
			continue
		}
		fresh, err := k.cs.Nodes().Get(ctx, k.cfg.NodeName)
		if client.IsNotFound(err) {
			// Deleted under us: register again, as Kubernetes' kubelet does.
			err = k.tryRegister(ctx)
		} else if err == nil {
			err = k.writeNodeStatus(ctx, fresh)
		}
		if err != nil && ctx.Err() == nil {
			k.log.Warn("update node status", zap.Error(err))
		}
	}
}

// leaseLoop renews the node's Lease every LeaseRenewInterval.
func (k *Kubelet) leaseLoop(ctx context.Context) {
	var lease *coordinationv1.Lease
	for {
		var err error
		lease, err = k.renewLease(ctx, lease)
		if err != nil && ctx.Err() == nil {
			k.log.Warn("renew node lease", zap.Error(err))
			lease = nil
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(k.cfg.LeaseRenewInterval):
		}
	}
}

func (k *Kubelet) renewLease(ctx context.Context, lease *coordinationv1.Lease) (*coordinationv1.Lease, error) {
	leases := k.cs.Leases(NodeLeaseNamespace)
	now := timestamppb.Now()
	if lease == nil {
		var err error
		lease, err = leases.Get(ctx, k.cfg.NodeName)
		if client.IsNotFound(err) {
			l := &coordinationv1.Lease{
				Metadata: &metav1.ObjectMeta{Name: k.cfg.NodeName, Namespace: NodeLeaseNamespace},
				Spec: &coordinationv1.LeaseSpec{
					HolderIdentity:       proto.String(k.cfg.NodeName),
					LeaseDurationSeconds: proto.Int32(int32(k.cfg.LeaseDuration / time.Second)),
					RenewTime:            now,
				},
			}
			k.nodeMu.Lock()
			if n := k.node; n != nil {
				l.Metadata.OwnerReferences = []*metav1.OwnerReference{{ApiVersion: "v1", Kind: "Node", Name: n.GetMetadata().GetName(), Uid: n.GetMetadata().GetUid()}}
			}
			k.nodeMu.Unlock()
			return leases.Create(ctx, l)
		}
		if err != nil {
			return nil, err
		}
	}
	next := proto.Clone(lease).(*coordinationv1.Lease)
	if next.Spec == nil {
		next.Spec = &coordinationv1.LeaseSpec{}
	}
	next.Spec.HolderIdentity = proto.String(k.cfg.NodeName)
	next.Spec.LeaseDurationSeconds = proto.Int32(int32(k.cfg.LeaseDuration / time.Second))
	next.Spec.RenewTime = now
	out, err := leases.Update(ctx, next)
	if err != nil {
		return nil, fmt.Errorf("update lease: %w", err)
	}
	return out, nil
}
