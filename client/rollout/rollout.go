package rollout

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/client"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Annotations and labels shared with the Deployment controller.
const (
	RevisionAnnotation    = "deployment.kubernetes.io/revision"
	ChangeCauseAnnotation = "kubernetes.io/change-cause"
	RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"
	PodTemplateHashLabel  = "pod-template-hash"
)

// Revision is one entry of a Deployment's history.
type Revision struct {
	// Number is the revision (deployment.kubernetes.io/revision).
	Number int64
	// ReplicaSet is the ReplicaSet holding the revision.
	ReplicaSet *appsv1.ReplicaSet
	// Template is the revision's pod template, without the
	// pod-template-hash label.
	Template *corev1.PodTemplateSpec
	// ChangeCause is the kubernetes.io/change-cause annotation, if any.
	ChangeCause string
}

// ErrNotFound is returned (wrapped) when the asked revision is not in the
// history.
var ErrNotFound = errors.New("revision not found")

// History lists the revisions of the Deployment ns/name, oldest first.
func History(ctx context.Context, cs *client.Clientset, ns, name string) ([]Revision, error) {
	d, err := cs.Deployments(ns).Get(ctx, name)
	if err != nil {
		return nil, err
	}
	return historyOf(ctx, cs, d)
}

func historyOf(ctx context.Context, cs *client.Clientset, d *appsv1.Deployment) ([]Revision, error) {
	ns := d.GetMetadata().GetNamespace()
	l, err := cs.ReplicaSets(ns).List(ctx, client.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list replicasets of deployment %s: %w", d.GetMetadata().GetName(), err)
	}
	var out []Revision
	for _, rs := range l.Items {
		if !ownedBy(rs, d) {
			continue
		}
		n, err := strconv.ParseInt(rs.GetMetadata().GetAnnotations()[RevisionAnnotation], 10, 64)
		if err != nil {
			continue
		}
		out = append(out, Revision{Number: n, ReplicaSet: rs, Template: stripHash(rs.GetSpec().GetTemplate()),
			ChangeCause: rs.GetMetadata().GetAnnotations()[ChangeCauseAnnotation]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, nil
}

func ownedBy(rs *appsv1.ReplicaSet, d *appsv1.Deployment) bool {
	for _, r := range rs.GetMetadata().GetOwnerReferences() {
		if r.GetController() && r.GetUid() == d.GetMetadata().GetUid() {
			return true
		}
	}
	return false
}

func stripHash(t *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	c := proto.Clone(t).(*corev1.PodTemplateSpec)
	if c.GetMetadata() != nil {
		delete(c.Metadata.Labels, PodTemplateHashLabel)
		if len(c.Metadata.Labels) == 0 {
			c.Metadata.Labels = nil
		}
	}
	return c
}

// Undo rolls the Deployment ns/name back to revision toRevision (0: the
// one before the current), by writing that revision's template into the
// Deployment; the Deployment controller then rolls it out as a new
// revision. It refuses a paused Deployment, and does nothing (returning
// skipped true) when the template already is that revision's.
func Undo(ctx context.Context, cs *client.Clientset, ns, name string, toRevision int64) (d *appsv1.Deployment, skipped bool, err error) {
	err = client.RetryOnConflict(ctx, func() error {
		cur, err := cs.Deployments(ns).Get(ctx, name)
		if err != nil {
			return err
		}
		if cur.GetSpec().GetPaused() {
			return fmt.Errorf("you cannot rollback a paused deployment; resume it first with 'gantry rollout resume deployment/%s' and try again", name)
		}
		hist, err := historyOf(ctx, cs, cur)
		if err != nil {
			return err
		}
		target, err := pick(hist, toRevision)
		if err != nil {
			return err
		}
		if proto.Equal(stripHash(cur.GetSpec().GetTemplate()), target.Template) {
			d, skipped = cur, true
			return nil
		}
		up := proto.Clone(cur).(*appsv1.Deployment)
		up.Spec.Template = proto.Clone(target.Template).(*corev1.PodTemplateSpec)
		if target.ChangeCause != "" {
			if up.Metadata.Annotations == nil {
				up.Metadata.Annotations = map[string]string{}
			}
			up.Metadata.Annotations[ChangeCauseAnnotation] = target.ChangeCause
		}
		d, err = cs.Deployments(ns).Update(ctx, up)
		skipped = false
		return err
	})
	return d, skipped, err
}

// pick finds toRevision in hist; 0 is the revision before the latest.
func pick(hist []Revision, toRevision int64) (Revision, error) {
	if toRevision == 0 {
		if len(hist) < 2 {
			return Revision{}, fmt.Errorf("no rollout history found: %w", ErrNotFound)
		}
		return hist[len(hist)-2], nil
	}
	for _, r := range hist {
		if r.Number == toRevision {
			return r, nil
		}
	}
	return Revision{}, fmt.Errorf("unable to find specified revision %d in history: %w", toRevision, ErrNotFound)
}

// Restart makes the Deployment ns/name replace all its pods, by setting
// the kubectl.kubernetes.io/restartedAt annotation of its pod template to
// now.
func Restart(ctx context.Context, cs *client.Clientset, ns, name string, now time.Time) (*appsv1.Deployment, error) {
	return update(ctx, cs, ns, name, func(d *appsv1.Deployment) error {
		if d.GetSpec().GetPaused() {
			return fmt.Errorf("can't restart paused deployment (run rollout resume first)")
		}
		t := d.Spec.Template
		if t.Metadata == nil {
			t.Metadata = &metav1.ObjectMeta{}
		}
		ann := maps.Clone(t.Metadata.Annotations)
		if ann == nil {
			ann = map[string]string{}
		}
		ann[RestartedAtAnnotation] = now.Format(time.RFC3339)
		t.Metadata.Annotations = ann
		return nil
	})
}

// Pause marks the Deployment ns/name paused: template changes are not
// rolled out until it is resumed.
func Pause(ctx context.Context, cs *client.Clientset, ns, name string) (*appsv1.Deployment, error) {
	return update(ctx, cs, ns, name, func(d *appsv1.Deployment) error { d.Spec.Paused = true; return nil })
}

// Resume undoes Pause.
func Resume(ctx context.Context, cs *client.Clientset, ns, name string) (*appsv1.Deployment, error) {
	return update(ctx, cs, ns, name, func(d *appsv1.Deployment) error { d.Spec.Paused = false; return nil })
}

func update(ctx context.Context, cs *client.Clientset, ns, name string, change func(*appsv1.Deployment) error) (*appsv1.Deployment, error) {
	var out *appsv1.Deployment
	err := client.RetryOnConflict(ctx, func() error {
		d, err := cs.Deployments(ns).Get(ctx, name)
		if err != nil {
			return err
		}
		if d.Spec == nil {
			d.Spec = &appsv1.DeploymentSpec{}
		}
		if d.Spec.Template == nil {
			d.Spec.Template = &corev1.PodTemplateSpec{}
		}
		if err := change(d); err != nil {
			return err
		}
		out, err = cs.Deployments(ns).Update(ctx, d)
		return err
	})
	return out, err
}

// ErrProgressDeadlineExceeded is returned (wrapped) by Status and Wait when
// the rollout stopped making progress.
var ErrProgressDeadlineExceeded = errors.New("progress deadline exceeded")

// Status says how far the Deployment's rollout has got, as `kubectl rollout
// status` does: a message, and done once the rollout is complete. It fails
// (wrapping ErrProgressDeadlineExceeded) once the deployment reports
// ProgressDeadlineExceeded.
func Status(d *appsv1.Deployment) (msg string, done bool, err error) {
	name := d.GetMetadata().GetName()
	st := d.GetStatus()
	if d.GetMetadata().GetGeneration() > st.GetObservedGeneration() {
		return "Waiting for deployment spec update to be observed...", false, nil
	}
	for _, c := range st.GetConditions() {
		if c.GetType() == "Progressing" && c.GetReason() == "ProgressDeadlineExceeded" {
			return "", false, fmt.Errorf("deployment %q exceeded its progress deadline: %w", name, ErrProgressDeadlineExceeded)
		}
	}
	want := d.GetSpec().GetReplicas()
	switch {
	case st.GetUpdatedReplicas() < want:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d out of %d new replicas have been updated...", name, st.GetUpdatedReplicas(), want), false, nil
	case st.GetReplicas() > st.GetUpdatedReplicas():
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...", name, st.GetReplicas()-st.GetUpdatedReplicas()), false, nil
	case st.GetAvailableReplicas() < st.GetUpdatedReplicas():
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...", name, st.GetAvailableReplicas(), st.GetUpdatedReplicas()), false, nil
	}
	return fmt.Sprintf("deployment %q successfully rolled out", name), true, nil
}

// Wait watches the Deployment ns/name until its rollout is done, calling
// progress with each new status message (it may be nil). It returns nil
// when done, the Status error on a passed progress deadline, or ctx's
// error.
func Wait(ctx context.Context, cs *client.Clientset, ns, name string, progress func(msg string)) error {
	last := ""
	report := func(d *appsv1.Deployment) (bool, error) {
		msg, done, err := Status(d)
		if err != nil {
			return false, err
		}
		if msg != last && progress != nil {
			progress(msg)
		}
		last = msg
		return done, nil
	}
	for {
		d, err := cs.Deployments(ns).Get(ctx, name)
		if err != nil {
			return err
		}
		done, err := report(d)
		if err != nil || done {
			return err
		}
		w, err := cs.Deployments(ns).Watch(ctx, client.WatchOptions{ResourceVersion: d.GetMetadata().GetResourceVersion(),
			FieldSelector: "metadata.name=" + name})
		if err != nil {
			return err
		}
		for {
			ev, err := w.Next()
			if err != nil {
				w.Stop()
				if ctx.Err() != nil {
					return ctx.Err()
				}
				break // watch again from a fresh read
			}
			if ev.Type == client.Deleted {
				w.Stop()
				return fmt.Errorf("deployment %q was deleted", name)
			}
			if ev.Type != client.Added && ev.Type != client.Modified {
				continue
			}
			done, err := report(ev.Object)
			if err != nil || done {
				w.Stop()
				return err
			}
		}
	}
}
