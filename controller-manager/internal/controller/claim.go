package controller

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Claim returns the objects owner controls after adopting and releasing
// (Kubernetes' ControllerRefManager): objects it controls that still match
// the selector are kept; those that no longer match are released (their
// controller reference removed); orphans that match are adopted unless
// the owner is being deleted. Every write is an Update carrying the
// resourceVersion read from the cache; a conflict is returned so the sync
// is retried.
func Claim[T scheme.Object](ctx context.Context, typed func(ns string) *client.Typed[T], owner scheme.Object, sel labels.Selector, objs []T) ([]T, error) {
	om := owner.GetMetadata()
	var claimed []T
	var errs []error
	for _, o := range objs {
		m := o.GetMetadata()
		ref := ControllerOf(m)
		matches := sel.Matches(labels.Set(m.GetLabels()))
		switch {
		case ref != nil && ref.GetUid() == om.GetUid():
			if matches {
				claimed = append(claimed, o)
				continue
			}
			if m.GetDeletionTimestamp() != nil {
				continue
			}
			c := proto.Clone(o).(T)
			cm := scheme.Meta(c)
			var refs []*metav1.OwnerReference
			for _, r := range cm.OwnerReferences {
				if r.GetUid() != om.GetUid() {
					refs = append(refs, r)
				}
			}
			cm.OwnerReferences = refs
			if _, err := typed(m.GetNamespace()).Update(ctx, c); err != nil && !client.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("release %s: %w", m.GetName(), err))
			}
		case ref == nil && matches && om.GetDeletionTimestamp() == nil && m.GetDeletionTimestamp() == nil:
			c := proto.Clone(o).(T)
			cm := scheme.Meta(c)
			cm.OwnerReferences = append(cm.OwnerReferences, NewControllerRef(owner))
			updated, err := typed(m.GetNamespace()).Update(ctx, c)
			if err != nil {
				if !client.IsNotFound(err) {
					errs = append(errs, fmt.Errorf("adopt %s: %w", m.GetName(), err))
				}
				continue
			}
			claimed = append(claimed, updated)
		}
	}
	return claimed, errors.Join(errs...)
}
