package strategy

import (
	"fmt"
	"math"
	"strings"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Pod is the strategy of pods. It implements registry.GracefulDeleter.
type Pod struct{}

var podPhases = []string{"Pending", "Running", "Succeeded", "Failed", "Unknown"}

// PrepareForCreate resets the status to phase Pending with the pod's QoS
// class, and a PodScheduled=False condition when scheduling gates hold the
// pod.
func (Pod) PrepareForCreate(obj proto.Message) {
	pod := obj.(*corev1.Pod)
	if pod.Spec == nil {
		pod.Spec = &corev1.PodSpec{}
	}
	pod.Status = &corev1.PodStatus{Phase: "Pending", QosClass: podQOS(pod.Spec)}
	if len(pod.Spec.SchedulingGates) > 0 {
		pod.Status.Conditions = append(pod.Status.Conditions, &corev1.PodCondition{
			Type: "PodScheduled", Status: "False", Reason: "SchedulingGated",
			Message: "Scheduling is blocked due to non-empty scheduling gates",
		})
	}
}

// Default applies the pod spec defaults and the pod-only ones (requests from
// limits, service links, service account, priority, default tolerations).
func (Pod) Default(obj proto.Message) {
	pod := obj.(*corev1.Pod)
	if pod.Spec == nil {
		pod.Spec = &corev1.PodSpec{}
	}
	defaultPodSpec(pod.Spec)
	defaultPodOnly(pod.Spec)
}

// Validate checks a new pod.
func (Pod) Validate(obj proto.Message) field.ErrorList {
	pod := obj.(*corev1.Pod)
	errs := validatePodSpec(pod.Spec, specPath)
	if name := pod.Spec.GetPriorityClassName(); name != "" {
		if _, ok := builtinPriorityClasses[name]; !ok {
			errs = append(errs, field.NotFound(specPath.Child("priorityClassName"), name))
		}
	}
	return errs
}

// podUpdatableFields is Kubernetes' list of what a pod update may change.
const podUpdatableFields = "pod updates may not change fields other than `spec.containers[*].image`," +
	"`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)," +
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)," +
	"`spec.schedulingGates` (only removals)"

// ValidateUpdate checks the new pod, then that only images, the active
// deadline (set or lowered), tolerations (added) and scheduling gates
// (removed) changed.
func (p Pod) ValidateUpdate(obj, old proto.Message) field.ErrorList {
	pod, oldPod := obj.(*corev1.Pod), old.(*corev1.Pod)
	errs := validatePodSpec(pod.Spec, specPath)
	if errs != nil {
		return errs
	}
	spec, oldSpec := pod.Spec, oldPod.GetSpec()
	if len(spec.Containers) != len(oldSpec.GetContainers()) {
		return append(errs, field.Forbidden(specPath.Child("containers"), "pod updates may not add or remove containers"))
	}
	if len(spec.InitContainers) != len(oldSpec.GetInitContainers()) {
		return append(errs, field.Forbidden(specPath.Child("initContainers"), "pod updates may not add or remove containers"))
	}
	adp := specPath.Child("activeDeadlineSeconds")
	if v := spec.ActiveDeadlineSeconds; v != nil {
		if oldSpec.ActiveDeadlineSeconds != nil && *v > *oldSpec.ActiveDeadlineSeconds {
			errs = append(errs, field.Invalid(adp, *v, "must be less than or equal to previous value"))
		}
	} else if oldSpec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Invalid(adp, "nil", "must not update from a positive integer to nil value"))
	}
	errs = append(errs, validateOnlyAddedTolerations(spec.Tolerations, oldSpec.Tolerations, specPath.Child("tolerations"))...)
	errs = append(errs, validateOnlyRemovedGates(spec.SchedulingGates, oldSpec.SchedulingGates, specPath.Child("schedulingGates"))...)

	// Compare everything else: take the updatable fields from old.
	munged := proto.Clone(spec).(*corev1.PodSpec)
	for i, c := range munged.Containers {
		c.Image = oldSpec.Containers[i].Image
	}
	for i, c := range munged.InitContainers {
		c.Image = oldSpec.InitContainers[i].Image
	}
	munged.ActiveDeadlineSeconds = oldSpec.ActiveDeadlineSeconds
	munged.Tolerations = oldSpec.Tolerations
	munged.SchedulingGates = oldSpec.SchedulingGates
	if g := oldSpec.TerminationGracePeriodSeconds; g != nil && *g < 0 && munged.GetTerminationGracePeriodSeconds() == 1 {
		munged.TerminationGracePeriodSeconds = g
	}
	if !proto.Equal(munged, oldSpec) {
		errs = append(errs, field.Forbidden(specPath, podUpdatableFields+"\nchanged: "+strings.Join(changedFields(munged, oldSpec), ", ")))
	}
	return errs
}

// changedFields names the top-level fields of two messages of one type that
// differ, by their JSON names.
func changedFields(a, b proto.Message) []string {
	ra, rb := a.ProtoReflect(), b.ProtoReflect()
	var out []string
	fields := ra.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		ma, mb := ra.New(), rb.New()
		if ra.Has(fd) {
			ma.Set(fd, ra.Get(fd))
		}
		if rb.Has(fd) {
			mb.Set(fd, rb.Get(fd))
		}
		if !proto.Equal(ma.Interface(), mb.Interface()) {
			out = append(out, "spec."+fd.JSONName())
		}
	}
	return out
}

func validateOnlyAddedTolerations(tolerations, old []*corev1.Toleration, p *field.Path) field.ErrorList {
	for _, o := range old {
		found := false
		for _, t := range tolerations {
			c := proto.Clone(o).(*corev1.Toleration)
			c.TolerationSeconds = t.TolerationSeconds
			if proto.Equal(c, t) {
				found = true
				break
			}
		}
		if !found {
			return field.ErrorList{field.Forbidden(p, "existing toleration can not be modified except its tolerationSeconds")}
		}
	}
	return nil
}

func validateOnlyRemovedGates(gates, old []*corev1.PodSchedulingGate, p *field.Path) field.ErrorList {
	oldNames := sets.New[string]()
	for _, g := range old {
		oldNames.Insert(g.Name)
	}
	var errs field.ErrorList
	for i, g := range gates {
		if !oldNames.Has(g.Name) {
			errs = append(errs, field.Forbidden(p.Index(i), fmt.Sprintf("only deletion is allowed, but found new scheduling gate '%s'", g.Name)))
		}
	}
	return errs
}

// ValidateStatusUpdate checks the phase, conditions, IPs and container
// statuses; terminated pods stay terminated and the QoS class is fixed.
func (Pod) ValidateStatusUpdate(obj, old proto.Message) field.ErrorList {
	pod, oldPod := obj.(*corev1.Pod), old.(*corev1.Pod)
	st, oldSt := pod.GetStatus(), oldPod.GetStatus()
	var errs field.ErrorList
	errs = append(errs, oneOfOrEmpty(st.GetPhase(), statusPath.Child("phase"), podPhases...)...)
	if op := oldSt.GetPhase(); (op == "Succeeded" || op == "Failed") && st.GetPhase() != op {
		errs = append(errs, field.Forbidden(statusPath.Child("phase"), fmt.Sprintf("cannot transition from terminal phase %s to %s", op, st.GetPhase())))
	}
	errs = append(errs, immutable(st.GetQosClass() != oldSt.GetQosClass(), st.GetQosClass(), statusPath.Child("qosClass"))...)
	for i, c := range st.GetConditions() {
		cp := statusPath.Child("conditions").Index(i)
		if c.Type == "" {
			errs = append(errs, field.Required(cp.Child("type"), ""))
		}
		errs = append(errs, conditionStatus(c.Status, cp.Child("status"))...)
	}
	if n := st.GetNominatedNodeName(); n != "" {
		errs = append(errs, dns1123Subdomain(n, statusPath.Child("nominatedNodeName"))...)
	}
	errs = append(errs, validateIPs(st.GetPodIp(), podIPs(st), "podIP", "podIPs")...)
	errs = append(errs, validateIPs(st.GetHostIp(), hostIPs(st), "hostIP", "hostIPs")...)
	errs = append(errs, validateContainerStatuses(st.GetInitContainerStatuses(), oldSt.GetInitContainerStatuses(), "", statusPath.Child("initContainerStatuses"))...)
	errs = append(errs, validateContainerStatuses(st.GetContainerStatuses(), oldSt.GetContainerStatuses(), pod.GetSpec().GetRestartPolicy(), statusPath.Child("containerStatuses"))...)
	return errs
}

func podIPs(st *corev1.PodStatus) []string {
	var out []string
	for _, ip := range st.GetPodIps() {
		out = append(out, ip.Ip)
	}
	return out
}

func hostIPs(st *corev1.PodStatus) []string {
	var out []string
	for _, ip := range st.GetHostIps() {
		out = append(out, ip.Ip)
	}
	return out
}

// validateIPs checks a primary IP and its per-family list: valid IPs, at
// most one per family, the list starting with the primary.
func validateIPs(primary string, list []string, one, many string) field.ErrorList {
	var errs field.ErrorList
	if primary != "" {
		errs = append(errs, validation.IsValidIP(statusPath.Child(one), primary)...)
	}
	if len(list) > 2 {
		errs = append(errs, field.TooMany(statusPath.Child(many), len(list), 2))
	}
	for i, ip := range list {
		errs = append(errs, validation.IsValidIP(statusPath.Child(many).Index(i), ip)...)
	}
	if len(list) > 0 && primary != "" && list[0] != primary {
		errs = append(errs, field.Invalid(statusPath.Child(many).Index(0), list[0], fmt.Sprintf("must match `%s`", one)))
	}
	return errs
}

// validateContainerStatuses checks restart counts and, under restartPolicy
// Never (or OnFailure after success), that no terminated container runs
// again. restartPolicy "" skips the transition check.
func validateContainerStatuses(statuses, old []*corev1.ContainerStatus, restartPolicy string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	oldByName := map[string]*corev1.ContainerStatus{}
	for _, s := range old {
		oldByName[s.Name] = s
	}
	for i, s := range statuses {
		sp := p.Index(i)
		if s.Name == "" {
			errs = append(errs, field.Required(sp.Child("name"), ""))
		}
		errs = append(errs, nonNegative(int64(s.RestartCount), sp.Child("restartCount"))...)
		o := oldByName[s.Name]
		if o == nil || o.GetState().GetTerminated() == nil || s.GetState().GetTerminated() != nil {
			continue
		}
		if restartPolicy == "Never" || (restartPolicy == "OnFailure" && o.State.Terminated.ExitCode == 0) {
			errs = append(errs, field.Forbidden(sp.Child("state"), "may not be transitioned to non-terminated state"))
		}
	}
	return errs
}

// GracePeriod is Kubernetes' CheckGracefulDelete: the requested period, or
// the pod's terminationGracePeriodSeconds (30 when unset); a pod that is not
// bound to a node or has finished goes at once.
func (Pod) GracePeriod(obj proto.Message, requested *int64) (int64, bool) {
	pod := obj.(*corev1.Pod)
	grace := defaultTerminationGracePeriod
	switch {
	case requested != nil:
		grace = *requested
	case pod.GetSpec().TerminationGracePeriodSeconds != nil:
		grace = *pod.Spec.TerminationGracePeriodSeconds
	}
	if pod.GetSpec().GetNodeName() == "" {
		return 0, false
	}
	if ph := pod.GetStatus().GetPhase(); ph == "Succeeded" || ph == "Failed" {
		return 0, false
	}
	if grace < 0 {
		grace = 1
	}
	if grace == 0 {
		return 0, false
	}
	return min(grace, math.MaxInt32), true
}

// podQOS is Kubernetes' ComputePodQOS over cpu and memory, with requests
// defaulted from limits as pod defaulting does.
func podQOS(spec *corev1.PodSpec) string {
	requests := map[string]resource.Quantity{}
	limits := map[string]resource.Quantity{}
	guaranteed := true
	add := func(m map[string]resource.Quantity, name string, q resource.Quantity) {
		if sum, ok := m[name]; ok {
			q.Add(sum)
		}
		m[name] = q
	}
	for _, c := range append(append([]*corev1.Container{}, spec.Containers...), spec.InitContainers...) {
		r := c.GetResources()
		limitsFound := sets.New[string]()
		for _, name := range []string{"cpu", "memory"} {
			req, hasReq := r.GetRequests()[name]
			lim, hasLim := r.GetLimits()[name]
			if !hasReq {
				req, hasReq = lim, hasLim
			}
			if hasReq {
				if q, err := resource.ParseQuantity(req.GetValue()); err == nil && q.Sign() > 0 {
					add(requests, name, q)
				}
			}
			if hasLim {
				if q, err := resource.ParseQuantity(lim.GetValue()); err == nil && q.Sign() > 0 {
					limitsFound.Insert(name)
					add(limits, name, q)
				}
			}
		}
		if !limitsFound.HasAll("cpu", "memory") {
			guaranteed = false
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return "BestEffort"
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
				break
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return "Guaranteed"
	}
	return "Burstable"
}
