package deployment

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/gantryhq/gantry/controller-manager/internal/controller"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Annotations and labels, as Kubernetes spells them.
const (
	RevisionAnnotation        = "deployment.kubernetes.io/revision"
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	MaxReplicasAnnotation     = "deployment.kubernetes.io/max-replicas"
	ChangeCauseAnnotation     = "kubernetes.io/change-cause"
	PodTemplateHashLabel      = "pod-template-hash"
)

// Condition reasons (Kubernetes' deploymentutil).
const (
	ReasonNewRSCreated          = "NewReplicaSetCreated"
	ReasonFoundNewRS            = "FoundNewReplicaSet"
	ReasonRSUpdated             = "ReplicaSetUpdated"
	ReasonNewRSAvailable        = "NewReplicaSetAvailable"
	ReasonTimedOut              = "ProgressDeadlineExceeded"
	ReasonPaused                = "DeploymentPaused"
	ReasonResumed               = "DeploymentResumed"
	ReasonMinimumAvailable      = "MinimumReplicasAvailable"
	ReasonMinimumUnavailable    = "MinimumReplicasUnavailable"
	ReasonFailedRSCreate        = "ReplicaSetCreateError"
	CondAvailable               = "Available"
	CondProgressing             = "Progressing"
	CondReplicaFailure          = "ReplicaFailure"
	StrategyRecreate            = "Recreate"
	StrategyRollingUpdate       = "RollingUpdate"
	timedOutMessageFormat       = "ReplicaSet %q has timed out progressing."
	progressingMessageFormat    = "ReplicaSet %q is progressing."
	newRSAvailableMessageFormat = "ReplicaSet %q has successfully progressed."
)

// ComputeHash is the pod-template-hash of template with collisionCount.
func ComputeHash(template *corev1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(template)
	h.Write(b)
	if collisionCount != nil {
		var buf [4]byte
		binary.LittleEndian.PutUint32(buf[:], uint32(*collisionCount))
		h.Write(buf[:])
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// EqualIgnoreHash reports whether two templates are equal but for the
// pod-template-hash label.
func EqualIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	a, b = proto.Clone(a).(*corev1.PodTemplateSpec), proto.Clone(b).(*corev1.PodTemplateSpec)
	if a.GetMetadata() != nil {
		delete(a.Metadata.Labels, PodTemplateHashLabel)
		if len(a.Metadata.Labels) == 0 {
			a.Metadata.Labels = nil
		}
	}
	if b.GetMetadata() != nil {
		delete(b.Metadata.Labels, PodTemplateHashLabel)
		if len(b.Metadata.Labels) == 0 {
			b.Metadata.Labels = nil
		}
	}
	return proto.Equal(a, b)
}

// Revision is an object's revision annotation (0 if none).
func Revision(annotations map[string]string) int64 {
	v, err := strconv.ParseInt(annotations[RevisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// replicas is a replica set's spec.replicas.
func replicas(rs *appsv1.ReplicaSet) int32 { return rs.GetSpec().GetReplicas() }

// sumSpec is the total spec.replicas of rss.
func sumSpec(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += replicas(rs)
		}
	}
	return n
}

func sumStatus(rss []*appsv1.ReplicaSet, f func(*appsv1.ReplicaSetStatus) int32) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += f(rs.GetStatus())
		}
	}
	return n
}

func sortByCreation(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		a, b := rss[i].GetMetadata().GetCreationTimestamp().AsTime(), rss[j].GetMetadata().GetCreationTimestamp().AsTime()
		if a.Equal(b) {
			return rss[i].GetMetadata().GetName() < rss[j].GetMetadata().GetName()
		}
		return a.Before(b)
	})
}

func sortByRevision(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		ri, rj := Revision(rss[i].GetMetadata().GetAnnotations()), Revision(rss[j].GetMetadata().GetAnnotations())
		if ri == rj {
			a, b := rss[i].GetMetadata().GetCreationTimestamp().AsTime(), rss[j].GetMetadata().GetCreationTimestamp().AsTime()
			return a.Before(b)
		}
		return ri < rj
	})
}

// MaxSurge resolves the deployment's maxSurge (0 unless RollingUpdate).
func MaxSurge(d *appsv1.Deployment) int32 {
	if d.GetSpec().GetStrategy().GetType() != StrategyRollingUpdate {
		return 0
	}
	s, _ := resolveFenceposts(d)
	return s
}

// MaxUnavailable resolves the deployment's maxUnavailable (0 unless
// RollingUpdate; at least 1 when maxSurge is 0 too; at most replicas).
func MaxUnavailable(d *appsv1.Deployment) int32 {
	r := d.GetSpec().GetReplicas()
	if d.GetSpec().GetStrategy().GetType() != StrategyRollingUpdate || r == 0 {
		return 0
	}
	_, u := resolveFenceposts(d)
	return min(u, r)
}

func resolveFenceposts(d *appsv1.Deployment) (surge, unavailable int32) {
	ru := d.GetSpec().GetStrategy().GetRollingUpdate()
	r := int(d.GetSpec().GetReplicas())
	s, err1 := controller.ScaledValue(ru.GetMaxSurge(), r, true)
	u, err2 := controller.ScaledValue(ru.GetMaxUnavailable(), r, false)
	if err1 != nil {
		s = 0
	}
	if err2 != nil {
		u = 0
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u)
}

func ts(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t.Truncate(time.Second)) }

// condition returns the condition of type typ, or nil.
func condition(st *appsv1.DeploymentStatus, typ string) *appsv1.DeploymentCondition {
	for _, c := range st.GetConditions() {
		if c.GetType() == typ {
			return c
		}
	}
	return nil
}

// setCondition sets c on st, keeping the transition time when the status
// did not change and leaving the condition alone when nothing did.
func setCondition(st *appsv1.DeploymentStatus, c *appsv1.DeploymentCondition) {
	cur := condition(st, c.Type)
	if cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	if cur != nil && cur.Status == c.Status {
		c.LastTransitionTime = cur.LastTransitionTime
	}
	removeCondition(st, c.Type)
	st.Conditions = append(st.Conditions, c)
}

func removeCondition(st *appsv1.DeploymentStatus, typ string) {
	var out []*appsv1.DeploymentCondition
	for _, c := range st.Conditions {
		if c.GetType() != typ {
			out = append(out, c)
		}
	}
	st.Conditions = out
}

func newCondition(typ, status, reason, msg string, now time.Time) *appsv1.DeploymentCondition {
	return &appsv1.DeploymentCondition{Type: typ, Status: status, Reason: reason, Message: msg,
		LastUpdateTime: ts(now), LastTransitionTime: ts(now)}
}

// Complete reports whether the deployment has all its replicas updated and
// available and no old ones running (Kubernetes' DeploymentComplete).
func Complete(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	r := d.GetSpec().GetReplicas()
	return st.GetUpdatedReplicas() == r && st.GetReplicas() == r && st.GetAvailableReplicas() == r &&
		st.GetObservedGeneration() >= d.GetMetadata().GetGeneration()
}

func progressing(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	old := d.GetStatus()
	oldOld := old.GetReplicas() - old.GetUpdatedReplicas()
	newOld := st.GetReplicas() - st.GetUpdatedReplicas()
	return st.GetUpdatedReplicas() > old.GetUpdatedReplicas() || newOld < oldOld ||
		st.GetReadyReplicas() > old.GetReadyReplicas() || st.GetAvailableReplicas() > old.GetAvailableReplicas()
}

func timedOut(d *appsv1.Deployment, st *appsv1.DeploymentStatus, now time.Time) bool {
	if d.GetSpec().ProgressDeadlineSeconds == nil {
		return false
	}
	c := condition(st, CondProgressing)
	if c == nil || c.GetReason() == ReasonNewRSAvailable {
		return false
	}
	if c.GetReason() == ReasonTimedOut {
		return true
	}
	from := c.GetLastUpdateTime().AsTime()
	return from.Add(time.Duration(d.GetSpec().GetProgressDeadlineSeconds()) * time.Second).Before(now)
}

func hasProgressDeadline(d *appsv1.Deployment) bool {
	p := d.GetSpec().ProgressDeadlineSeconds
	return p != nil && *p != int32(^uint32(0)>>1)
}
