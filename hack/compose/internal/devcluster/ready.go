package devcluster

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"time"

	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// NodeReady reports whether n's Ready condition is True and was reported at
// or after since (zero: any time). A Node keeps its last status while its
// kubelet is down, so after a restart only a fresh heartbeat says the kubelet
// is back.
func NodeReady(n *corev1.Node, since time.Time) bool {
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			if c.GetStatus() != "True" {
				return false
			}
			return since.IsZero() || !c.GetLastHeartbeatTime().AsTime().Before(since)
		}
	}
	return false
}

// NodesReady reports whether at least want nodes are Ready (with a heartbeat
// since since), and names the ready and the not-ready ones, sorted.
func NodesReady(nodes []*corev1.Node, want int, since time.Time) (ok bool, ready, notReady []string) {
	for _, n := range nodes {
		if NodeReady(n, since) {
			ready = append(ready, n.GetMetadata().GetName())
		} else {
			notReady = append(notReady, n.GetMetadata().GetName())
		}
	}
	sort.Strings(ready)
	sort.Strings(notReady)
	return len(ready) >= want && want > 0, ready, notReady
}

// DeploymentAvailable reports whether every wanted replica of d is updated
// and available, and says how far it is.
func DeploymentAvailable(d *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if d.GetSpec() != nil && d.GetSpec().Replicas != nil {
		want = d.GetSpec().GetReplicas()
	}
	st := d.GetStatus()
	progress := fmt.Sprintf("%d/%d available, %d updated", st.GetAvailableReplicas(), want, st.GetUpdatedReplicas())
	ok := st.GetObservedGeneration() >= d.GetMetadata().GetGeneration() &&
		st.GetUpdatedReplicas() >= want && st.GetAvailableReplicas() >= want
	return ok, progress
}

// LoadBalancerAddresses returns "host:port" for every ingress address of
// svc and every port of it, empty while the load balancer is not provisioned.
func LoadBalancerAddresses(svc *corev1.Service) []string {
	var out []string
	for _, in := range svc.GetStatus().GetLoadBalancer().GetIngress() {
		host := in.GetIp()
		if host == "" {
			host = in.GetHostname()
		}
		if host == "" {
			continue
		}
		for _, p := range svc.GetSpec().GetPorts() {
			out = append(out, net.JoinHostPort(host, strconv.Itoa(int(p.GetPort()))))
		}
	}
	return out
}
