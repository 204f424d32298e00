package cmd

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/gantryhq/gantry/cli/internal/printers"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/rollout"
	"github.com/gantryhq/gantry/client/scheme"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func newDescribeCommand(f *Factory) *cobra.Command {
	var selector string
	var allNamespaces, showEvents bool
	c := &cobra.Command{
		Use:   "describe (-f FILENAME | TYPE [NAME_PREFIX | -l label] | TYPE/NAME)",
		Short: "Show details of a specific resource or group of resources",
		Long: "Show details of a specific resource or group of resources, with its conditions and the events\n" +
			"that name it. An exact name is looked up first; else every object whose name starts with NAME_PREFIX.",
		Example: `  # Describe a node
  gantry describe nodes n1

  # Describe all pods managed by the 'web' deployment
  gantry describe pods -l app=web`,
		ValidArgsFunction: completeResources(f),
		RunE: func(c *cobra.Command, args []string) error {
			refs, err := parseResourceArgs(args)
			if err != nil {
				return err
			}
			return runDescribe(c.Context(), f, refs, selector, allNamespaces, showEvents)
		},
	}
	c.Flags().StringVarP(&selector, "selector", "l", "", "Selector (label query) to filter on.")
	c.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "If present, list the requested object(s) across all namespaces.")
	c.Flags().BoolVar(&showEvents, "show-events", true, "If true, display events related to the described object.")
	return c
}

func runDescribe(ctx context.Context, f *Factory, refs []resourceRef, selector string, allNamespaces, showEvents bool) error {
	cs, ns, _, err := f.ClientIn()
	if err != nil {
		return err
	}
	if allNamespaces {
		ns = ""
	}
	var errs []error
	first := true
	for _, ref := range refs {
		var objs []scheme.Object
		if len(ref.names) == 0 {
			l, err := list(ctx, cs, ref.res, ns, client.ListOptions{LabelSelector: selector})
			if err != nil {
				return err
			}
			objs = l.Items
		}
		tc := cs.Resource(ref.res, namespaceFor(ref.res, ns))
		for _, n := range ref.names {
			obj, err := tc.Get(ctx, n)
			if err == nil {
				objs = append(objs, obj)
				continue
			}
			if !client.IsNotFound(err) {
				return err
			}
			// kubectl describes every object whose name starts with
			// the argument when none has it exactly.
			l, lerr := list(ctx, cs, ref.res, ns, client.ListOptions{})
			if lerr != nil {
				return lerr
			}
			matched := false
			for _, o := range l.Items {
				if strings.HasPrefix(o.GetMetadata().GetName(), n) {
					objs = append(objs, o)
					matched = true
				}
			}
			if !matched {
				errs = append(errs, err)
			}
		}
		for _, obj := range objs {
			if !first {
				fmt.Fprintln(f.Out)
				fmt.Fprintln(f.Out)
			}
			first = false
			var events []*corev1.Event
			if showEvents {
				events, err = eventsFor(ctx, cs, ref.res, obj)
				if err != nil {
					return err
				}
			}
			var extra describeExtra
			switch o := obj.(type) {
			case *corev1.Node:
				l, err := cs.Pods("").ListAll(ctx, client.ListOptions{Limit: 500,
					FieldSelector: "spec.nodeName=" + o.GetMetadata().GetName() + ",status.phase!=Succeeded,status.phase!=Failed"})
				if err != nil {
					return err
				}
				extra.nodePods = l.Items
			case *appsv1.ReplicaSet:
				if sel := printers.SelectorString(o.GetSpec().GetSelector()); sel != "<none>" {
					l, err := cs.Pods(o.GetMetadata().GetNamespace()).ListAll(ctx, client.ListOptions{Limit: 500, LabelSelector: sel})
					if err != nil {
						return err
					}
					extra.nodePods = l.Items
				}
			case *appsv1.Deployment:
				hist, err := rollout.History(ctx, cs, o.GetMetadata().GetNamespace(), o.GetMetadata().GetName())
				if err != nil {
					return err
				}
				for i, r := range hist {
					if i == len(hist)-1 {
						extra.newRS = r.ReplicaSet
					} else if r.ReplicaSet.GetStatus().GetReplicas() > 0 || r.ReplicaSet.GetSpec().GetReplicas() > 0 {
						extra.oldRSs = append(extra.oldRSs, r.ReplicaSet)
					}
				}
			}
			if err := describe(f.Out, ref.res, obj, events, f.Now(), extra); err != nil {
				return err
			}
		}
		if len(objs) == 0 && len(ref.names) == 0 {
			fmt.Fprintln(f.ErrOut, noResources(ns, allNamespaces, []resourceRef{ref}))
		}
	}
	for _, e := range errs {
		fmt.Fprintln(f.ErrOut, FormatError(e))
	}
	if len(errs) > 0 {
		return errReported
	}
	return nil
}

// eventsFor lists the events whose involvedObject is obj, oldest first.
func eventsFor(ctx context.Context, cs *client.Clientset, res *scheme.Resource, obj scheme.Object) ([]*corev1.Event, error) {
	md := obj.GetMetadata()
	sel := "involvedObject.name=" + md.GetName() + ",involvedObject.kind=" + res.Kind
	ns := md.GetNamespace()
	if res.Namespaced {
		sel += ",involvedObject.namespace=" + ns
	}
	if md.GetUid() != "" {
		sel += ",involvedObject.uid=" + md.GetUid()
	}
	l, err := cs.Events(ns).ListAll(ctx, client.ListOptions{FieldSelector: sel, Limit: 500})
	if err != nil {
		return nil, err
	}
	evs := l.Items
	sort.SliceStable(evs, func(i, j int) bool { return eventTime(evs[i]).Before(eventTime(evs[j])) })
	return evs, nil
}

// eventTime is when an event last happened.
func eventTime(e *corev1.Event) time.Time {
	for _, t := range []*timestamppb.Timestamp{e.GetSeries().GetLastObservedTime(), e.GetLastTimestamp(), e.GetEventTime(), e.GetFirstTimestamp(), e.GetMetadata().GetCreationTimestamp()} {
		if t != nil {
			return t.AsTime()
		}
	}
	return time.Time{}
}

// newDescribeWriter is the tab writer of kubectl's describe (columns two
// spaces apart).
func newDescribeWriter(out io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
}

// describer writes `Key:\tvalue` lines through one tab writer, indented
// two spaces a level, as kubectl's PrefixWriter does.
type describer struct {
	w   io.Writer
	now time.Time
	describeExtra
}

// describeExtra is what a description shows besides the object and its
// events, read by the caller: the pods on a node (or a replica set's), a
// deployment's replica sets.
type describeExtra struct {
	nodePods []*corev1.Pod
	newRS    *appsv1.ReplicaSet
	oldRSs   []*appsv1.ReplicaSet
}

func (d *describer) line(level int, format string, args ...any) {
	fmt.Fprintf(d.w, strings.Repeat("  ", level)+format+"\n", args...)
}

// kv writes "Key:\tvalue".
func (d *describer) kv(level int, key string, value any) {
	d.line(level, "%s:\t%v", key, value)
}

// mapLines writes a map as kubectl does: the first entry on the key's line,
// the others under it; <none> when empty.
func (d *describer) mapLines(level int, key string, m map[string]string, sep string) {
	if len(m) == 0 {
		d.kv(level, key, "<none>")
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		v := m[k]
		if i == 0 {
			d.line(level, "%s:\t%s%s%s", key, k, sep, v)
		} else {
			d.line(level, "\t%s%s%s", k, sep, v)
		}
	}
}

func timeString(t *timestamppb.Timestamp) string {
	if t == nil {
		return "<unset>"
	}
	return t.AsTime().UTC().Format(time.RFC1123Z)
}

func (d *describer) meta(md *metav1.ObjectMeta, namespaced bool) {
	d.kv(0, "Name", md.GetName())
	if namespaced {
		d.kv(0, "Namespace", md.GetNamespace())
	}
	d.mapLines(0, "Labels", md.GetLabels(), "=")
	ann := map[string]string{}
	for k, v := range md.GetAnnotations() {
		if k == "kubectl.kubernetes.io/last-applied-configuration" {
			continue
		}
		ann[k] = v
	}
	d.mapLines(0, "Annotations", ann, ": ")
	d.kv(0, "CreationTimestamp", timeString(md.GetCreationTimestamp()))
	if md.GetDeletionTimestamp() != nil {
		d.kv(0, "Terminating", "since "+timeString(md.GetDeletionTimestamp()))
	}
	if refs := md.GetOwnerReferences(); len(refs) > 0 {
		for _, r := range refs {
			if r.GetController() {
				d.kv(0, "Controlled By", r.GetKind()+"/"+r.GetName())
			}
		}
	}
}

// condition is one row of a Conditions table.
type condition struct{ typ, status, reason, message string }

func (d *describer) conditions(conds []condition, withReason bool) {
	if len(conds) == 0 {
		return
	}
	d.line(0, "Conditions:")
	if withReason {
		d.line(1, "Type\tStatus\tReason")
		d.line(1, "----\t------\t------")
		for _, c := range conds {
			d.line(1, "%s\t%s\t%s", c.typ, c.status, orDash(c.reason))
		}
		return
	}
	d.line(1, "Type\tStatus")
	d.line(1, "----\t------")
	for _, c := range conds {
		d.line(1, "%s\t%s", c.typ, c.status)
	}
}

func orDash(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func (d *describer) events(evs []*corev1.Event) {
	if len(evs) == 0 {
		d.kv(0, "Events", "<none>")
		return
	}
	d.line(0, "Events:")
	d.line(1, "Type\tReason\tAge\tFrom\tMessage")
	d.line(1, "----\t------\t----\t----\t-------")
	for _, e := range evs {
		from := printers.EventSource(e)
		d.line(1, "%s\t%s\t%s\t%s\t%s", e.GetType(), e.GetReason(), printers.EventLastSeen(e, d.now, true), from, strings.TrimSpace(e.GetMessage()))
	}
}

func (d *describer) podTemplate(level int, t *corev1.PodTemplateSpec) {
	d.line(level, "Pod Template:")
	d.mapLines(level+1, "Labels", t.GetMetadata().GetLabels(), "=")
	d.containers(level+1, t.GetSpec().GetContainers(), nil)
}

func (d *describer) containers(level int, cs []*corev1.Container, statuses []*corev1.ContainerStatus) {
	d.line(level, "Containers:")
	if len(cs) == 0 {
		d.line(level+1, "<none>")
	}
	byName := map[string]*corev1.ContainerStatus{}
	for _, s := range statuses {
		byName[s.GetName()] = s
	}
	for _, c := range cs {
		d.line(level+1, "%s:", c.GetName())
		l := level + 2
		if s := byName[c.GetName()]; s != nil && s.GetContainerId() != "" {
			d.kv(l, "Container ID", s.GetContainerId())
		}
		d.kv(l, "Image", c.GetImage())
		if s := byName[c.GetName()]; s != nil && s.GetImageId() != "" {
			d.kv(l, "Image ID", s.GetImageId())
		}
		var ports []string
		for _, p := range c.GetPorts() {
			proto := p.GetProtocol()
			if proto == "" {
				proto = "TCP"
			}
			ports = append(ports, fmt.Sprintf("%d/%s", p.GetContainerPort(), proto))
		}
		if len(ports) == 0 {
			d.kv(l, "Port", "<none>")
		} else {
			d.kv(l, "Port", strings.Join(ports, ", "))
		}
		if len(c.GetCommand()) > 0 {
			d.line(l, "Command:")
			for _, a := range c.GetCommand() {
				d.line(l+1, "%s", a)
			}
		}
		if len(c.GetArgs()) > 0 {
			d.line(l, "Args:")
			for _, a := range c.GetArgs() {
				d.line(l+1, "%s", a)
			}
		}
		if s := byName[c.GetName()]; s != nil {
			d.state(l, "State", s.GetState())
			if ls := s.GetLastState(); ls.GetTerminated() != nil || ls.GetWaiting() != nil || ls.GetRunning() != nil {
				d.state(l, "Last State", ls)
			}
			d.kv(l, "Ready", boolWord(s.GetReady()))
			d.kv(l, "Restart Count", s.GetRestartCount())
		}
		if lim := c.GetResources().GetLimits(); len(lim) > 0 {
			d.quantities(l, "Limits", lim)
		}
		if req := c.GetResources().GetRequests(); len(req) > 0 {
			d.quantities(l, "Requests", req)
		}
		if len(c.GetEnv()) == 0 {
			d.kv(l, "Environment", "<none>")
		} else {
			d.line(l, "Environment:")
			for _, e := range c.GetEnv() {
				v := e.GetValue()
				if e.GetValueFrom() != nil {
					v = "(from " + e.GetValueFrom().GetFieldRef().GetFieldPath() + ")"
				}
				d.kv(l+1, e.GetName(), v)
			}
		}
	}
}

func (d *describer) quantities(level int, key string, m map[string]*metav1.Quantity) {
	d.line(level, "%s:", key)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d.kv(level+1, k, m[k].GetValue())
	}
}

func (d *describer) state(level int, key string, s *corev1.ContainerState) {
	switch {
	case s.GetRunning() != nil:
		d.kv(level, key, "Running")
		d.kv(level+1, "Started", timeString(s.GetRunning().GetStartedAt()))
	case s.GetWaiting() != nil:
		d.kv(level, key, "Waiting")
		if r := s.GetWaiting().GetReason(); r != "" {
			d.kv(level+1, "Reason", r)
		}
		if m := s.GetWaiting().GetMessage(); m != "" {
			d.kv(level+1, "Message", m)
		}
	case s.GetTerminated() != nil:
		t := s.GetTerminated()
		d.kv(level, key, "Terminated")
		if t.GetReason() != "" {
			d.kv(level+1, "Reason", t.GetReason())
		}
		if t.GetMessage() != "" {
			d.kv(level+1, "Message", t.GetMessage())
		}
		d.kv(level+1, "Exit Code", t.GetExitCode())
		if t.GetSignal() != 0 {
			d.kv(level+1, "Signal", t.GetSignal())
		}
		d.kv(level+1, "Started", timeString(t.GetStartedAt()))
		d.kv(level+1, "Finished", timeString(t.GetFinishedAt()))
	default:
		d.kv(level, key, "Waiting")
	}
}

func boolWord(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// describe writes obj's description and its events.
func describe(out io.Writer, res *scheme.Resource, obj scheme.Object, events []*corev1.Event, now time.Time, extra describeExtra) error {
	w := newDescribeWriter(out)
	d := &describer{w: w, now: now, describeExtra: extra}
	switch o := obj.(type) {
	case *corev1.Pod:
		describePod(d, o)
	case *appsv1.Deployment:
		d.meta(o.GetMetadata(), true)
		sp, st := o.GetSpec(), o.GetStatus()
		d.kv(0, "Selector", printers.SelectorString(sp.GetSelector()))
		d.kv(0, "Replicas", fmt.Sprintf("%d desired | %d updated | %d total | %d available | %d unavailable",
			sp.GetReplicas(), st.GetUpdatedReplicas(), st.GetReplicas(), st.GetAvailableReplicas(), st.GetUnavailableReplicas()))
		d.kv(0, "StrategyType", sp.GetStrategy().GetType())
		d.kv(0, "MinReadySeconds", sp.GetMinReadySeconds())
		if ru := sp.GetStrategy().GetRollingUpdate(); ru != nil {
			d.kv(0, "RollingUpdateStrategy", fmt.Sprintf("%s max unavailable, %s max surge", intOrString(ru.GetMaxUnavailable()), intOrString(ru.GetMaxSurge())))
		}
		d.podTemplate(0, sp.GetTemplate())
		var cs []condition
		for _, c := range st.GetConditions() {
			cs = append(cs, condition{c.GetType(), c.GetStatus(), c.GetReason(), c.GetMessage()})
		}
		d.conditions(cs, true)
		rsLine := func(rs *appsv1.ReplicaSet) string {
			return fmt.Sprintf("%s (%d/%d replicas created)", rs.GetMetadata().GetName(), rs.GetStatus().GetReplicas(), rs.GetSpec().GetReplicas())
		}
		var old []string
		for _, rs := range d.oldRSs {
			old = append(old, rsLine(rs))
		}
		d.kv(0, "OldReplicaSets", orDash(strings.Join(old, ", ")))
		if d.newRS != nil {
			d.kv(0, "NewReplicaSet", rsLine(d.newRS))
		} else {
			d.kv(0, "NewReplicaSet", "<none>")
		}
	case *appsv1.ReplicaSet:
		d.meta(o.GetMetadata(), true)
		sp, st := o.GetSpec(), o.GetStatus()
		d.kv(0, "Selector", printers.SelectorString(sp.GetSelector()))
		d.kv(0, "Replicas", fmt.Sprintf("%d current / %d desired", st.GetReplicas(), sp.GetReplicas()))
		phases := map[string]int{}
		for _, p := range d.nodePods {
			phases[p.GetStatus().GetPhase()]++
		}
		d.kv(0, "Pods Status", fmt.Sprintf("%d Running / %d Waiting / %d Succeeded / %d Failed",
			phases["Running"], phases["Pending"]+phases[""], phases["Succeeded"], phases["Failed"]))
		d.podTemplate(0, sp.GetTemplate())
		var cs []condition
		for _, c := range st.GetConditions() {
			cs = append(cs, condition{c.GetType(), c.GetStatus(), c.GetReason(), c.GetMessage()})
		}
		d.conditions(cs, true)
	case *corev1.Node:
		describeNode(d, o)
	case *corev1.Service:
		d.meta(o.GetMetadata(), true)
		sp := o.GetSpec()
		d.mapLines(0, "Selector", sp.GetSelector(), "=")
		d.kv(0, "Type", sp.GetType())
		d.kv(0, "IP", orDash(sp.GetClusterIp()))
		if len(sp.GetExternalIps()) > 0 {
			d.kv(0, "External IPs", strings.Join(sp.GetExternalIps(), ","))
		}
		for _, in := range o.GetStatus().GetLoadBalancer().GetIngress() {
			d.kv(0, "LoadBalancer Ingress", in.GetIp()+in.GetHostname())
		}
		for _, p := range sp.GetPorts() {
			name := p.GetName()
			if name == "" {
				name = "<unset>"
			}
			proto := p.GetProtocol()
			if proto == "" {
				proto = "TCP"
			}
			d.kv(0, "Port", fmt.Sprintf("%s\t%d/%s", name, p.GetPort(), proto))
			d.kv(0, "TargetPort", fmt.Sprintf("%s/%s", intOrString(p.GetTargetPort()), proto))
			if p.GetNodePort() != 0 {
				d.kv(0, "NodePort", fmt.Sprintf("%s\t%d/%s", name, p.GetNodePort(), proto))
			}
		}
		d.kv(0, "Session Affinity", orDash(sp.GetSessionAffinity()))
	case *corev1.Endpoints:
		d.meta(o.GetMetadata(), true)
		d.line(0, "Subsets:")
		for _, ss := range o.GetSubsets() {
			var ready, notReady []string
			for _, a := range ss.GetAddresses() {
				ready = append(ready, a.GetIp())
			}
			for _, a := range ss.GetNotReadyAddresses() {
				notReady = append(notReady, a.GetIp())
			}
			d.kv(1, "Addresses", orDash(strings.Join(ready, ",")))
			d.kv(1, "NotReadyAddresses", orDash(strings.Join(notReady, ",")))
			d.line(1, "Ports:")
			d.line(2, "Name\tPort\tProtocol")
			d.line(2, "----\t----\t--------")
			for _, p := range ss.GetPorts() {
				name := p.GetName()
				if name == "" {
					name = "<unset>"
				}
				d.line(2, "%s\t%d\t%s", name, p.GetPort(), p.GetProtocol())
			}
		}
	case *batchv1.Job:
		d.meta(o.GetMetadata(), true)
		sp, st := o.GetSpec(), o.GetStatus()
		d.kv(0, "Selector", printers.SelectorString(sp.GetSelector()))
		d.kv(0, "Parallelism", sp.GetParallelism())
		if sp.Completions != nil {
			d.kv(0, "Completions", sp.GetCompletions())
		} else {
			d.kv(0, "Completions", "<unset>")
		}
		if st.GetStartTime() != nil {
			d.kv(0, "Start Time", timeString(st.GetStartTime()))
		}
		if st.GetCompletionTime() != nil {
			d.kv(0, "Completed At", timeString(st.GetCompletionTime()))
		}
		d.kv(0, "Pods Statuses", fmt.Sprintf("%d Active (%d Ready) / %d Succeeded / %d Failed", st.GetActive(), st.GetReady(), st.GetSucceeded(), st.GetFailed()))
		d.podTemplate(0, sp.GetTemplate())
		var cs []condition
		for _, c := range st.GetConditions() {
			cs = append(cs, condition{c.GetType(), c.GetStatus(), c.GetReason(), c.GetMessage()})
		}
		d.conditions(cs, true)
	case *batchv1.CronJob:
		d.meta(o.GetMetadata(), true)
		sp := o.GetSpec()
		d.kv(0, "Schedule", sp.GetSchedule())
		d.kv(0, "Concurrency Policy", sp.GetConcurrencyPolicy())
		d.kv(0, "Suspend", boolWord(sp.GetSuspend()))
		d.kv(0, "Last Schedule Time", timeString(o.GetStatus().GetLastScheduleTime()))
		var active []string
		for _, a := range o.GetStatus().GetActive() {
			active = append(active, a.GetName())
		}
		d.kv(0, "Active Jobs", orDash(strings.Join(active, ", ")))
		d.podTemplate(0, sp.GetJobTemplate().GetSpec().GetTemplate())
	case *corev1.Namespace:
		d.meta(o.GetMetadata(), false)
		d.kv(0, "Status", o.GetStatus().GetPhase())
	case *coordinationv1.Lease:
		d.meta(o.GetMetadata(), true)
		sp := o.GetSpec()
		d.kv(0, "Holder Identity", sp.GetHolderIdentity())
		d.kv(0, "Lease Duration Seconds", sp.GetLeaseDurationSeconds())
		d.kv(0, "Acquire Time", timeString(sp.GetAcquireTime()))
		d.kv(0, "Renew Time", timeString(sp.GetRenewTime()))
		d.kv(0, "Lease Transitions", sp.GetLeaseTransitions())
	case *corev1.Event:
		d.meta(o.GetMetadata(), true)
		d.kv(0, "Involved Object", printers.EventObject(o))
		d.kv(0, "Type", o.GetType())
		d.kv(0, "Reason", o.GetReason())
		d.kv(0, "Message", o.GetMessage())
		d.kv(0, "Count", o.GetCount())
		d.kv(0, "First Timestamp", timeString(o.GetFirstTimestamp()))
		d.kv(0, "Last Timestamp", timeString(o.GetLastTimestamp()))
		d.kv(0, "Source", o.GetSource().GetComponent())
		events = nil
	default:
		d.meta(obj.GetMetadata(), res.Namespaced)
	}
	d.events(events)
	return w.Flush()
}

func intOrString(v *metav1.IntOrString) string {
	if v == nil {
		return "<unset>"
	}
	if s, ok := v.GetValue().(*metav1.IntOrString_StrVal); ok {
		return s.StrVal
	}
	return fmt.Sprint(v.GetIntVal())
}

func describePod(d *describer, p *corev1.Pod) {
	md, sp, st := p.GetMetadata(), p.GetSpec(), p.GetStatus()
	d.kv(0, "Name", md.GetName())
	d.kv(0, "Namespace", md.GetNamespace())
	d.kv(0, "Priority", sp.GetPriority())
	if sp.GetServiceAccountName() != "" {
		d.kv(0, "Service Account", sp.GetServiceAccountName())
	}
	node := sp.GetNodeName()
	if node == "" {
		node = "<none>"
	} else if st.GetHostIp() != "" {
		node += "/" + st.GetHostIp()
	}
	d.kv(0, "Node", node)
	if st.GetStartTime() != nil {
		d.kv(0, "Start Time", timeString(st.GetStartTime()))
	}
	d.mapLines(0, "Labels", md.GetLabels(), "=")
	ann := map[string]string{}
	for k, v := range md.GetAnnotations() {
		if k != "kubectl.kubernetes.io/last-applied-configuration" {
			ann[k] = v
		}
	}
	d.mapLines(0, "Annotations", ann, ": ")
	if md.GetDeletionTimestamp() != nil {
		d.kv(0, "Status", "Terminating (lasts "+printers.Age(md.GetDeletionTimestamp(), d.now)+")")
		if g := md.DeletionGracePeriodSeconds; g != nil {
			d.kv(0, "Termination Grace Period", fmt.Sprintf("%ds", *g))
		}
	} else {
		d.kv(0, "Status", orDash(st.GetPhase()))
	}
	if st.GetReason() != "" {
		d.kv(0, "Reason", st.GetReason())
	}
	if st.GetMessage() != "" {
		d.kv(0, "Message", st.GetMessage())
	}
	d.kv(0, "IP", st.GetPodIp())
	for _, r := range md.GetOwnerReferences() {
		if r.GetController() {
			d.kv(0, "Controlled By", r.GetKind()+"/"+r.GetName())
		}
	}
	if len(sp.GetInitContainers()) > 0 {
		d.line(0, "Init Containers:")
		d.containers(0, sp.GetInitContainers(), st.GetInitContainerStatuses())
	}
	d.containers(0, sp.GetContainers(), st.GetContainerStatuses())
	var cs []condition
	for _, c := range st.GetConditions() {
		cs = append(cs, condition{typ: c.GetType(), status: c.GetStatus()})
	}
	d.conditions(cs, false)
	if len(sp.GetVolumes()) == 0 {
		d.kv(0, "Volumes", "<none>")
	} else {
		d.line(0, "Volumes:")
		for _, v := range sp.GetVolumes() {
			d.line(1, "%s:", v.GetName())
			switch {
			case v.GetHostPath() != nil:
				d.kv(2, "Type", "HostPath (bare host directory volume)")
				d.kv(2, "Path", v.GetHostPath().GetPath())
			case v.GetEmptyDir() != nil:
				d.kv(2, "Type", "EmptyDir (a temporary directory that shares a pod's lifetime)")
				d.kv(2, "Medium", v.GetEmptyDir().GetMedium())
			case v.GetDownwardApi() != nil:
				d.kv(2, "Type", "DownwardAPI (a volume populated by information about the pod)")
			}
		}
	}
	d.mapLines(0, "Node-Selectors", sp.GetNodeSelector(), "=")
	var tols []string
	for _, t := range sp.GetTolerations() {
		s := t.GetKey()
		if t.GetOperator() == "Exists" || t.GetValue() == "" {
			if s != "" {
				s += ""
			}
		} else {
			s += "=" + t.GetValue()
		}
		if t.GetEffect() != "" {
			s += ":" + t.GetEffect()
		}
		if t.TolerationSeconds != nil {
			s += fmt.Sprintf(" op=%s for %ds", t.GetOperator(), t.GetTolerationSeconds())
		} else if t.GetOperator() == "Exists" {
			s += " op=Exists"
		}
		tols = append(tols, s)
	}
	if len(tols) == 0 {
		d.kv(0, "Tolerations", "<none>")
	} else {
		for i, t := range tols {
			if i == 0 {
				d.kv(0, "Tolerations", t)
			} else {
				d.line(0, "\t%s", t)
			}
		}
	}
}

func describeNode(d *describer, n *corev1.Node) {
	md, sp, st := n.GetMetadata(), n.GetSpec(), n.GetStatus()
	d.kv(0, "Name", md.GetName())
	d.kv(0, "Roles", printers.NodeRoles(n))
	d.mapLines(0, "Labels", md.GetLabels(), "=")
	d.mapLines(0, "Annotations", md.GetAnnotations(), ": ")
	d.kv(0, "CreationTimestamp", timeString(md.GetCreationTimestamp()))
	var taints []string
	for _, t := range sp.GetTaints() {
		s := t.GetKey()
		if t.GetValue() != "" {
			s += "=" + t.GetValue()
		}
		taints = append(taints, s+":"+t.GetEffect())
	}
	if len(taints) == 0 {
		d.kv(0, "Taints", "<none>")
	} else {
		for i, t := range taints {
			if i == 0 {
				d.kv(0, "Taints", t)
			} else {
				d.line(0, "\t%s", t)
			}
		}
	}
	d.kv(0, "Unschedulable", strings.ToLower(boolWord(sp.GetUnschedulable())))
	if len(st.GetConditions()) > 0 {
		d.line(0, "Conditions:")
		d.line(1, "Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage")
		d.line(1, "----\t------\t-----------------\t------------------\t------\t-------")
		for _, c := range st.GetConditions() {
			d.line(1, "%s\t%s\t%s\t%s\t%s\t%s", c.GetType(), c.GetStatus(), timeString(c.GetLastHeartbeatTime()),
				timeString(c.GetLastTransitionTime()), c.GetReason(), c.GetMessage())
		}
	}
	if len(st.GetAddresses()) > 0 {
		d.line(0, "Addresses:")
		for _, a := range st.GetAddresses() {
			d.kv(1, a.GetType(), a.GetAddress())
		}
	}
	if len(st.GetCapacity()) > 0 {
		d.quantities(0, "Capacity", st.GetCapacity())
	}
	if len(st.GetAllocatable()) > 0 {
		d.quantities(0, "Allocatable", st.GetAllocatable())
	}
	if info := st.GetNodeInfo(); info != nil {
		d.line(0, "System Info:")
		d.kv(1, "Machine ID", info.GetMachineId())
		d.kv(1, "Kernel Version", info.GetKernelVersion())
		d.kv(1, "OS Image", info.GetOsImage())
		d.kv(1, "Operating System", info.GetOperatingSystem())
		d.kv(1, "Architecture", info.GetArchitecture())
		d.kv(1, "Container Runtime Version", info.GetContainerRuntimeVersion())
		d.kv(1, "Kubelet Version", info.GetKubeletVersion())
		d.kv(1, "Kube-Proxy Version", info.GetKubeProxyVersion())
	}
	if sp.GetPodCidr() != "" {
		d.kv(0, "PodCIDR", sp.GetPodCidr())
	}
	if sp.GetProviderId() != "" {
		d.kv(0, "ProviderID", sp.GetProviderId())
	}
	d.nodeResources(st.GetAllocatable(), st.GetCapacity())
}

// nodeResources writes the Non-terminated Pods and Allocated resources
// sections of a node: each pod's requests and limits, and their sums, as
// shares of what the node can allocate.
func (d *describer) nodeResources(allocatable, capacity map[string]*metav1.Quantity) {
	if len(allocatable) == 0 {
		allocatable = capacity
	}
	alloc := func(name string) resource.Quantity {
		if q, ok := allocatable[name]; ok {
			if v, err := resource.ParseQuantity(q.GetValue()); err == nil {
				return v
			}
		}
		return resource.Quantity{}
	}
	share := func(q resource.Quantity, name string) string {
		total := alloc(name)
		pct := int64(0)
		if total.MilliValue() > 0 {
			pct = q.MilliValue() * 100 / total.MilliValue()
		}
		return fmt.Sprintf("%s (%d%%)", q.String(), pct)
	}
	sum := func(p *corev1.Pod, limits bool, name string) resource.Quantity {
		var total resource.Quantity
		for _, c := range p.GetSpec().GetContainers() {
			m := c.GetResources().GetRequests()
			if limits {
				m = c.GetResources().GetLimits()
			}
			if q, ok := m[name]; ok {
				if v, err := resource.ParseQuantity(q.GetValue()); err == nil {
					total.Add(v)
				}
			}
		}
		return total
	}
	pods := append([]*corev1.Pod(nil), d.nodePods...)
	sort.Slice(pods, func(i, j int) bool {
		a, b := pods[i].GetMetadata(), pods[j].GetMetadata()
		return a.GetNamespace()+"/"+a.GetName() < b.GetNamespace()+"/"+b.GetName()
	})
	d.kv(0, "Non-terminated Pods", fmt.Sprintf("(%d in total)", len(pods)))
	if len(pods) > 0 {
		d.line(1, "Namespace\tName\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge")
		d.line(1, "---------\t----\t------------\t----------\t---------------\t-------------\t---")
	}
	var reqCPU, limCPU, reqMem, limMem resource.Quantity
	for _, p := range pods {
		rc, lc, rm, lm := sum(p, false, "cpu"), sum(p, true, "cpu"), sum(p, false, "memory"), sum(p, true, "memory")
		reqCPU.Add(rc)
		limCPU.Add(lc)
		reqMem.Add(rm)
		limMem.Add(lm)
		d.line(1, "%s\t%s\t%s\t%s\t%s\t%s\t%s", p.GetMetadata().GetNamespace(), p.GetMetadata().GetName(),
			share(rc, "cpu"), share(lc, "cpu"), share(rm, "memory"), share(lm, "memory"),
			printers.Age(p.GetMetadata().GetCreationTimestamp(), d.now))
	}
	d.line(0, "Allocated resources:")
	d.line(1, "(Total limits may be over 100 percent, i.e., overcommitted.)")
	d.line(1, "Resource\tRequests\tLimits")
	d.line(1, "--------\t--------\t------")
	d.line(1, "cpu\t%s\t%s", share(reqCPU, "cpu"), share(limCPU, "cpu"))
	d.line(1, "memory\t%s\t%s", share(reqMem, "memory"), share(limMem, "memory"))
}
