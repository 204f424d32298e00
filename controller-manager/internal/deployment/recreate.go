package deployment

import (
	"context"

	"github.com/gantryhq/gantry/controller-manager/internal/controller"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
)

func (s *syncer) rolloutRecreate(ctx context.Context, rss []*appsv1.ReplicaSet) error {
	newRS, old, err := s.split(ctx, rss, false)
	if err != nil {
		return err
	}
	all := append(append([]*appsv1.ReplicaSet(nil), old...), newRS)
	scaledDown := false
	for _, rs := range active(old) {
		scaled, _, err := s.scaleRS(ctx, rs, 0)
		if err != nil {
			return err
		}
		scaledDown = scaledDown || scaled
	}
	if scaledDown {
		return s.syncRolloutStatus(ctx, all, newRS)
	}
	if s.oldPodsRunning(old) {
		return s.syncRolloutStatus(ctx, all, newRS)
	}
	if newRS == nil {
		newRS, old, err = s.split(ctx, rss, true)
		if err != nil {
			return err
		}
		all = append(append([]*appsv1.ReplicaSet(nil), old...), newRS)
	}
	if _, _, err := s.scaleRS(ctx, newRS, s.d.Spec.GetReplicas()); err != nil {
		return err
	}
	if Complete(s.d, s.d.Status) {
		if err := s.cleanup(ctx, old); err != nil {
			return err
		}
	}
	return s.syncRolloutStatus(ctx, all, newRS)
}

// oldPodsRunning reports whether any pod of an old replica set has not
// finished, including pods still terminating.
func (s *syncer) oldPodsRunning(old []*appsv1.ReplicaSet) bool {
	uids := map[string]bool{}
	for _, rs := range old {
		if rs.GetStatus().GetReplicas() > 0 {
			return true
		}
		uids[rs.GetMetadata().GetUid()] = true
	}
	for _, p := range s.c.podLs.ListNamespace(s.d.Metadata.Namespace, nil) {
		ref := controller.ControllerOf(p.GetMetadata())
		if ref == nil || !uids[ref.GetUid()] {
			continue
		}
		if ph := p.GetStatus().GetPhase(); ph != "Succeeded" && ph != "Failed" {
			return true
		}
	}
	return false
}
