package printers

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/gantryhq/gantry/client/scheme"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// The columns and cells below follow kubectl's
// pkg/printers/internalversion/printers.go.

func init() {
	register("pods", []column{{name: "NAME"}, {name: "READY"}, {name: "STATUS"}, {name: "RESTARTS"}, {name: "AGE"},
		{name: "IP", wide: true}, {name: "NODE", wide: true}, {name: "NOMINATED NODE", wide: true}, {name: "READINESS GATES", wide: true}},
		func(o scheme.Object, now time.Time) []string { return podRow(o.(*corev1.Pod), now) })
	register("deployments", []column{{name: "NAME"}, {name: "READY"}, {name: "UP-TO-DATE"}, {name: "AVAILABLE"}, {name: "AGE"},
		{name: "CONTAINERS", wide: true}, {name: "IMAGES", wide: true}, {name: "SELECTOR", wide: true}},
		func(o scheme.Object, now time.Time) []string {
			d := o.(*appsv1.Deployment)
			st := d.GetStatus()
			names, images := containers(d.GetSpec().GetTemplate().GetSpec())
			return []string{d.GetMetadata().GetName(),
				fmt.Sprintf("%d/%d", st.GetReadyReplicas(), d.GetSpec().GetReplicas()),
				itoa(st.GetUpdatedReplicas()), itoa(st.GetAvailableReplicas()),
				age(d.GetMetadata().GetCreationTimestamp(), now),
				names, images, SelectorString(d.GetSpec().GetSelector())}
		})
	register("replicasets", []column{{name: "NAME"}, {name: "DESIRED"}, {name: "CURRENT"}, {name: "READY"}, {name: "AGE"},
		{name: "CONTAINERS", wide: true}, {name: "IMAGES", wide: true}, {name: "SELECTOR", wide: true}},
		func(o scheme.Object, now time.Time) []string {
			rs := o.(*appsv1.ReplicaSet)
			names, images := containers(rs.GetSpec().GetTemplate().GetSpec())
			return []string{rs.GetMetadata().GetName(), itoa(rs.GetSpec().GetReplicas()),
				itoa(rs.GetStatus().GetReplicas()), itoa(rs.GetStatus().GetReadyReplicas()),
				age(rs.GetMetadata().GetCreationTimestamp(), now),
				names, images, SelectorString(rs.GetSpec().GetSelector())}
		})
	register("nodes", []column{{name: "NAME"}, {name: "STATUS"}, {name: "ROLES"}, {name: "AGE"}, {name: "VERSION"},
		{name: "INTERNAL-IP", wide: true}, {name: "EXTERNAL-IP", wide: true}, {name: "OS-IMAGE", wide: true},
		{name: "KERNEL-VERSION", wide: true}, {name: "CONTAINER-RUNTIME", wide: true}},
		func(o scheme.Object, now time.Time) []string { return nodeRow(o.(*corev1.Node), now) })
	register("services", []column{{name: "NAME"}, {name: "TYPE"}, {name: "CLUSTER-IP"}, {name: "EXTERNAL-IP"}, {name: "PORT(S)"}, {name: "AGE"},
		{name: "SELECTOR", wide: true}},
		func(o scheme.Object, now time.Time) []string {
			s := o.(*corev1.Service)
			sp := s.GetSpec()
			return []string{s.GetMetadata().GetName(), sp.GetType(), orNone(sp.GetClusterIp()),
				serviceExternalIP(s), servicePorts(sp.GetPorts()), age(s.GetMetadata().GetCreationTimestamp(), now),
				labelsString(sp.GetSelector())}
		})
	register("endpoints", []column{{name: "NAME"}, {name: "ENDPOINTS"}, {name: "AGE"}},
		func(o scheme.Object, now time.Time) []string {
			e := o.(*corev1.Endpoints)
			return []string{e.GetMetadata().GetName(), FormatEndpoints(e), age(e.GetMetadata().GetCreationTimestamp(), now)}
		})
	register("jobs", []column{{name: "NAME"}, {name: "STATUS"}, {name: "COMPLETIONS"}, {name: "DURATION"}, {name: "AGE"},
		{name: "CONTAINERS", wide: true}, {name: "IMAGES", wide: true}, {name: "SELECTOR", wide: true}},
		func(o scheme.Object, now time.Time) []string { return jobRow(o.(*batchv1.Job), now) })
	register("cronjobs", []column{{name: "NAME"}, {name: "SCHEDULE"}, {name: "TIMEZONE"}, {name: "SUSPEND"}, {name: "ACTIVE"},
		{name: "LAST SCHEDULE"}, {name: "AGE"},
		{name: "CONTAINERS", wide: true}, {name: "IMAGES", wide: true}, {name: "SELECTOR", wide: true}},
		func(o scheme.Object, now time.Time) []string {
			cj := o.(*batchv1.CronJob)
			sp := cj.GetSpec()
			tz := "<none>"
			if sp.TimeZone != nil {
				tz = sp.GetTimeZone()
			}
			suspend := "<unset>"
			if sp.Suspend != nil {
				suspend = boolString(sp.GetSuspend())
			}
			names, images := containers(sp.GetJobTemplate().GetSpec().GetTemplate().GetSpec())
			return []string{cj.GetMetadata().GetName(), sp.GetSchedule(), tz, suspend,
				strconv.Itoa(len(cj.GetStatus().GetActive())), since(cj.GetStatus().GetLastScheduleTime(), now),
				age(cj.GetMetadata().GetCreationTimestamp(), now),
				names, images, SelectorString(sp.GetJobTemplate().GetSpec().GetSelector())}
		})
	register("namespaces", []column{{name: "NAME"}, {name: "STATUS"}, {name: "AGE"}},
		func(o scheme.Object, now time.Time) []string {
			ns := o.(*corev1.Namespace)
			return []string{ns.GetMetadata().GetName(), ns.GetStatus().GetPhase(), age(ns.GetMetadata().GetCreationTimestamp(), now)}
		})
	register("events", []column{{name: "LAST SEEN"}, {name: "TYPE"}, {name: "REASON"}, {name: "OBJECT"},
		{name: "SUBOBJECT", wide: true}, {name: "SOURCE", wide: true}, {name: "MESSAGE"},
		{name: "FIRST SEEN", wide: true}, {name: "COUNT", wide: true}, {name: "NAME", wide: true}},
		func(o scheme.Object, now time.Time) []string {
			e := o.(*corev1.Event)
			first := e.GetFirstTimestamp()
			if first == nil {
				first = e.GetEventTime()
			}
			count := e.GetCount()
			if s := e.GetSeries(); s != nil {
				count = s.GetCount()
			}
			if count == 0 {
				count = 1
			}
			return []string{EventLastSeen(e, now, false), e.GetType(), e.GetReason(), EventObject(e),
				e.GetInvolvedObject().GetFieldPath(), EventSource(e), strings.TrimSpace(e.GetMessage()),
				age(first, now), itoa(count), e.GetMetadata().GetName()}
		})
	register("leases", []column{{name: "NAME"}, {name: "HOLDER"}, {name: "AGE"}},
		func(o scheme.Object, now time.Time) []string {
			l := o.(*coordinationv1.Lease)
			return []string{l.GetMetadata().GetName(), l.GetSpec().GetHolderIdentity(), age(l.GetMetadata().GetCreationTimestamp(), now)}
		})
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }

func boolString(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// PodStatus is the STATUS column of a pod: its phase, or the reason its
// containers give (ContainerCreating, CrashLoopBackOff, Completed,
// Init:0/1, ...), or Terminating.
func PodStatus(pod *corev1.Pod) string {
	status, _, _, _ := podState(pod)
	return status
}

// podState computes kubectl's STATUS, ready and total containers, restarts
// and the time of the last restart.
func podState(pod *corev1.Pod) (reason string, ready, total, restarts int) {
	st := pod.GetStatus()
	total = len(pod.GetSpec().GetContainers())
	reason = st.GetPhase()
	if st.GetReason() != "" {
		reason = st.GetReason()
	}
	if reason == "" {
		reason = "Pending"
	}

	initializing := false
	initTotal := len(pod.GetSpec().GetInitContainers())
	for i, cs := range st.GetInitContainerStatuses() {
		restarts += int(cs.GetRestartCount())
		state := cs.GetState()
		switch {
		case state.GetTerminated() != nil && state.GetTerminated().GetExitCode() == 0:
			continue
		case state.GetTerminated() != nil:
			t := state.GetTerminated()
			switch {
			case t.GetReason() != "":
				reason = "Init:" + t.GetReason()
			case t.GetSignal() != 0:
				reason = fmt.Sprintf("Init:Signal:%d", t.GetSignal())
			default:
				reason = fmt.Sprintf("Init:ExitCode:%d", t.GetExitCode())
			}
			initializing = true
		case state.GetWaiting() != nil && state.GetWaiting().GetReason() != "" && state.GetWaiting().GetReason() != "PodInitializing":
			reason = "Init:" + state.GetWaiting().GetReason()
			initializing = true
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, initTotal)
			initializing = true
		}
		break
	}
	if !initializing {
		restarts = 0
		hasRunning := false
		css := st.GetContainerStatuses()
		for i := len(css) - 1; i >= 0; i-- {
			cs := css[i]
			restarts += int(cs.GetRestartCount())
			state := cs.GetState()
			switch {
			case state.GetWaiting() != nil && state.GetWaiting().GetReason() != "":
				reason = state.GetWaiting().GetReason()
			case state.GetTerminated() != nil && state.GetTerminated().GetReason() != "":
				reason = state.GetTerminated().GetReason()
			case state.GetTerminated() != nil && state.GetTerminated().GetSignal() != 0:
				reason = fmt.Sprintf("Signal:%d", state.GetTerminated().GetSignal())
			case state.GetTerminated() != nil:
				reason = fmt.Sprintf("ExitCode:%d", state.GetTerminated().GetExitCode())
			case cs.GetReady() && state.GetRunning() != nil:
				hasRunning = true
				ready++
			}
		}
		if reason == "Completed" && hasRunning {
			reason = "Running"
			for _, c := range st.GetConditions() {
				if c.GetType() == "Ready" && c.GetStatus() != "True" {
					reason = "NotReady"
				}
			}
		}
	}
	if pod.GetMetadata().GetDeletionTimestamp() != nil {
		if st.GetReason() == "NodeLost" {
			reason = "Unknown"
		} else {
			reason = "Terminating"
		}
	}
	return reason, ready, total, restarts
}

func podRow(pod *corev1.Pod, now time.Time) []string {
	reason, ready, total, restarts := podState(pod)
	restartCell := strconv.Itoa(restarts)
	var last time.Time
	for _, cs := range append(append([]*corev1.ContainerStatus{}, pod.GetStatus().GetInitContainerStatuses()...), pod.GetStatus().GetContainerStatuses()...) {
		if t := cs.GetLastState().GetTerminated(); t != nil && t.GetFinishedAt() != nil && t.GetFinishedAt().AsTime().After(last) {
			last = t.GetFinishedAt().AsTime()
		}
	}
	if restarts > 0 && !last.IsZero() {
		restartCell = fmt.Sprintf("%d (%s ago)", restarts, duration.HumanDuration(now.Sub(last)))
	}
	gates := "<none>"
	if rg := pod.GetSpec().GetReadinessGates(); len(rg) > 0 {
		trueCount := 0
		for _, g := range rg {
			for _, c := range pod.GetStatus().GetConditions() {
				if c.GetType() == g.GetConditionType() && c.GetStatus() == "True" {
					trueCount++
				}
			}
		}
		gates = fmt.Sprintf("%d/%d", trueCount, len(rg))
	}
	return []string{pod.GetMetadata().GetName(), fmt.Sprintf("%d/%d", ready, total), reason, restartCell,
		age(pod.GetMetadata().GetCreationTimestamp(), now),
		orNone(pod.GetStatus().GetPodIp()), orNone(pod.GetSpec().GetNodeName()),
		orNone(pod.GetStatus().GetNominatedNodeName()), gates}
}

// NodeStatus is the STATUS column of a node: Ready, NotReady or Unknown,
// with ",SchedulingDisabled" when cordoned.
func NodeStatus(n *corev1.Node) string {
	var status []string
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() != "Ready" {
			continue
		}
		if c.GetStatus() == "True" {
			status = append(status, "Ready")
		} else {
			status = append(status, "NotReady")
		}
		break
	}
	if len(status) == 0 {
		status = append(status, "Unknown")
	}
	if n.GetSpec().GetUnschedulable() {
		status = append(status, "SchedulingDisabled")
	}
	return strings.Join(status, ",")
}

// NodeRoles is the ROLES column: the node-role.kubernetes.io/<role> labels.
func NodeRoles(n *corev1.Node) string {
	roles := map[string]bool{}
	for k, v := range n.GetMetadata().GetLabels() {
		switch {
		case strings.HasPrefix(k, "node-role.kubernetes.io/"):
			if r := strings.TrimPrefix(k, "node-role.kubernetes.io/"); r != "" {
				roles[r] = true
			}
		case k == "kubernetes.io/role" && v != "":
			roles[v] = true
		}
	}
	if len(roles) == 0 {
		return "<none>"
	}
	out := make([]string, 0, len(roles))
	for r := range roles {
		out = append(out, r)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func nodeRow(n *corev1.Node, now time.Time) []string {
	internal, external := "<none>", "<none>"
	for _, a := range n.GetStatus().GetAddresses() {
		switch {
		case a.GetType() == "InternalIP" && internal == "<none>":
			internal = a.GetAddress()
		case a.GetType() == "ExternalIP" && external == "<none>":
			external = a.GetAddress()
		}
	}
	info := n.GetStatus().GetNodeInfo()
	return []string{n.GetMetadata().GetName(), NodeStatus(n), NodeRoles(n), age(n.GetMetadata().GetCreationTimestamp(), now),
		info.GetKubeletVersion(), internal, external, orUnknown(info.GetOsImage()), orUnknown(info.GetKernelVersion()),
		orUnknown(info.GetContainerRuntimeVersion())}
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

func serviceExternalIP(s *corev1.Service) string {
	sp := s.GetSpec()
	switch sp.GetType() {
	case "ClusterIP", "NodePort", "":
		if len(sp.GetExternalIps()) > 0 {
			return strings.Join(sp.GetExternalIps(), ",")
		}
		return "<none>"
	case "LoadBalancer":
		var ips []string
		for _, in := range s.GetStatus().GetLoadBalancer().GetIngress() {
			switch {
			case in.GetIp() != "":
				ips = append(ips, in.GetIp())
			case in.GetHostname() != "":
				ips = append(ips, in.GetHostname())
			}
		}
		ips = append(ips, sp.GetExternalIps()...)
		if len(ips) == 0 {
			return "<pending>"
		}
		return strings.Join(ips, ",")
	case "ExternalName":
		return sp.GetExternalName()
	}
	return "<unknown>"
}

func servicePorts(ports []*corev1.ServicePort) string {
	if len(ports) == 0 {
		return "<none>"
	}
	out := make([]string, len(ports))
	for i, p := range ports {
		proto := p.GetProtocol()
		if proto == "" {
			proto = "TCP"
		}
		if p.GetNodePort() > 0 {
			out[i] = fmt.Sprintf("%d:%d/%s", p.GetPort(), p.GetNodePort(), proto)
		} else {
			out[i] = fmt.Sprintf("%d/%s", p.GetPort(), proto)
		}
	}
	return strings.Join(out, ",")
}

// FormatEndpoints is the ENDPOINTS column: up to three ip:port, then
// "+ N more...".
func FormatEndpoints(e *corev1.Endpoints) string {
	const max = 3
	var list []string
	count := 0
	add := func(s string) {
		count++
		if len(list) < max {
			list = append(list, s)
		}
	}
	for _, ss := range e.GetSubsets() {
		if len(ss.GetPorts()) == 0 {
			for _, a := range ss.GetAddresses() {
				add(a.GetIp())
			}
			continue
		}
		for _, p := range ss.GetPorts() {
			for _, a := range ss.GetAddresses() {
				add(net.JoinHostPort(a.GetIp(), strconv.Itoa(int(p.GetPort()))))
			}
		}
	}
	if len(list) == 0 {
		return "<none>"
	}
	ret := strings.Join(list, ",")
	if count > max {
		ret = fmt.Sprintf("%s + %d more...", ret, count-max)
	}
	return ret
}

func hasCondition(conds []*batchv1.JobCondition, typ string) bool {
	for _, c := range conds {
		if c.GetType() == typ && c.GetStatus() == "True" {
			return true
		}
	}
	return false
}

// JobStatus is the STATUS column of a job.
func JobStatus(j *batchv1.Job) string {
	conds := j.GetStatus().GetConditions()
	switch {
	case hasCondition(conds, "Complete"):
		return "Complete"
	case hasCondition(conds, "Failed"):
		return "Failed"
	case j.GetMetadata().GetDeletionTimestamp() != nil:
		return "Terminating"
	case hasCondition(conds, "Suspended"):
		return "Suspended"
	case hasCondition(conds, "FailureTarget"):
		return "FailureTarget"
	case hasCondition(conds, "SuccessCriteriaMet"):
		return "SuccessCriteriaMet"
	}
	return "Running"
}

func jobRow(j *batchv1.Job, now time.Time) []string {
	sp, st := j.GetSpec(), j.GetStatus()
	var completions string
	switch {
	case sp.Completions != nil:
		completions = fmt.Sprintf("%d/%d", st.GetSucceeded(), sp.GetCompletions())
	case sp.GetParallelism() > 1:
		completions = fmt.Sprintf("%d/1 of %d", st.GetSucceeded(), sp.GetParallelism())
	default:
		completions = fmt.Sprintf("%d/1", st.GetSucceeded())
	}
	var dur string
	switch {
	case st.GetStartTime() == nil:
	case st.GetCompletionTime() == nil:
		dur = duration.HumanDuration(now.Sub(st.GetStartTime().AsTime()))
	default:
		dur = duration.HumanDuration(st.GetCompletionTime().AsTime().Sub(st.GetStartTime().AsTime()))
	}
	names, images := containers(sp.GetTemplate().GetSpec())
	return []string{j.GetMetadata().GetName(), JobStatus(j), completions, dur, age(j.GetMetadata().GetCreationTimestamp(), now),
		names, images, SelectorString(sp.GetSelector())}
}

// EventObject is the OBJECT column of an event: kind/name, kind lowercase.
func EventObject(e *corev1.Event) string {
	io := e.GetInvolvedObject()
	if io.GetName() == "" {
		return strings.ToLower(io.GetKind())
	}
	return strings.ToLower(io.GetKind()) + "/" + io.GetName()
}

// EventSource is the SOURCE column of an event: its component, and host
// when it has one.
func EventSource(e *corev1.Event) string {
	c := e.GetSource().GetComponent()
	if c == "" {
		c = e.GetReportingComponent()
	}
	if h := e.GetSource().GetHost(); h != "" {
		return c + ", " + h
	}
	return c
}

// EventLastSeen is the LAST SEEN column of an event. With counts (as
// `kubectl events` writes it), a repeated event reads "5m (x3 over 10m)".
func EventLastSeen(e *corev1.Event, now time.Time, counts bool) string {
	first := e.GetFirstTimestamp()
	if first == nil {
		first = e.GetEventTime()
	}
	last := e.GetLastTimestamp()
	if last == nil {
		last = first
	}
	count := e.GetCount()
	if s := e.GetSeries(); s != nil {
		last, count = s.GetLastObservedTime(), s.GetCount()
	}
	if count == 0 {
		count = 1
	}
	lastS := age(last, now)
	if counts && count > 1 && first != nil {
		return fmt.Sprintf("%s (x%d over %s)", lastS, count, age(first, now))
	}
	return lastS
}

func containers(spec *corev1.PodSpec) (names, images string) {
	var n, i []string
	for _, c := range spec.GetContainers() {
		n = append(n, c.GetName())
		i = append(i, c.GetImage())
	}
	return strings.Join(n, ","), strings.Join(i, ",")
}

// SelectorString writes a label selector as kubectl does ("app=web,tier
// in (a,b)"), "<none>" when empty.
func SelectorString(s *metav1.LabelSelector) string {
	if s == nil || (len(s.GetMatchLabels()) == 0 && len(s.GetMatchExpressions()) == 0) {
		return "<none>"
	}
	var parts []string
	keys := make([]string, 0, len(s.GetMatchLabels()))
	for k := range s.GetMatchLabels() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+s.GetMatchLabels()[k])
	}
	for _, r := range s.GetMatchExpressions() {
		vals := append([]string(nil), r.GetValues()...)
		sort.Strings(vals)
		switch r.GetOperator() {
		case "In":
			parts = append(parts, fmt.Sprintf("%s in (%s)", r.GetKey(), strings.Join(vals, ",")))
		case "NotIn":
			parts = append(parts, fmt.Sprintf("%s notin (%s)", r.GetKey(), strings.Join(vals, ",")))
		case "Exists":
			parts = append(parts, r.GetKey())
		case "DoesNotExist":
			parts = append(parts, "!"+r.GetKey())
		}
	}
	return strings.Join(parts, ",")
}
