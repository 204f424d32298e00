package deployment

import (
	"context"

	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
)

func (s *syncer) rolloutRolling(ctx context.Context, rss []*appsv1.ReplicaSet) error {
	newRS, old, err := s.split(ctx, rss, true)
	if err != nil {
		return err
	}
	all := append(append([]*appsv1.ReplicaSet(nil), old...), newRS)
	scaledUp, err := s.reconcileNewRS(ctx, all, newRS)
	if err != nil {
		return err
	}
	if scaledUp {
		return s.syncRolloutStatus(ctx, all, newRS)
	}
	scaledDown, err := s.reconcileOldRSs(ctx, all, active(old), newRS)
	if err != nil {
		return err
	}
	if scaledDown {
		return s.syncRolloutStatus(ctx, all, newRS)
	}
	if Complete(s.d, s.d.Status) {
		if err := s.cleanup(ctx, old); err != nil {
			return err
		}
	}
	return s.syncRolloutStatus(ctx, all, newRS)
}

func (s *syncer) reconcileNewRS(ctx context.Context, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (bool, error) {
	want := s.d.Spec.GetReplicas()
	if replicas(newRS) == want {
		return false, nil
	}
	if replicas(newRS) > want {
		scaled, _, err := s.scaleRS(ctx, newRS, want)
		return scaled, err
	}
	n := newRSNewReplicas(s.d, all, newRS)
	scaled, _, err := s.scaleRS(ctx, newRS, n)
	return scaled && n != 0, err
}

func (s *syncer) reconcileOldRSs(ctx context.Context, all, old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (bool, error) {
	if sumSpec(old) == 0 {
		return false, nil
	}
	allPods := sumSpec(all)
	minAvailable := s.d.Spec.GetReplicas() - MaxUnavailable(s.d)
	newUnavailable := replicas(newRS) - availableOf(newRS)
	maxScaledDown := allPods - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return false, nil
	}
	cleaned, err := s.cleanupUnhealthy(ctx, old, maxScaledDown)
	if err != nil {
		return false, err
	}
	scaled, err := s.scaleDownOldForRolling(ctx, all, old)
	if err != nil {
		return false, err
	}
	return cleaned+scaled > 0, nil
}

// cleanupUnhealthy scales old replica sets down by their unavailable
// replicas, oldest first, at most maxCleanup in all.
func (s *syncer) cleanupUnhealthy(ctx context.Context, old []*appsv1.ReplicaSet, maxCleanup int32) (int32, error) {
	sortByCreation(old)
	var total int32
	for i, rs := range old {
		if total >= maxCleanup {
			break
		}
		if replicas(rs) == 0 {
			continue
		}
		unhealthy := replicas(rs) - availableOf(rs)
		if unhealthy <= 0 {
			continue
		}
		down := min(maxCleanup-total, unhealthy)
		_, got, err := s.scaleRS(ctx, rs, replicas(rs)-down)
		if err != nil {
			return total, err
		}
		old[i] = got
		total += down
	}
	return total, nil
}

// scaleDownOldForRolling scales old replica sets down, oldest first, while
// availability stays at least replicas - maxUnavailable.
func (s *syncer) scaleDownOldForRolling(ctx context.Context, all, old []*appsv1.ReplicaSet) (int32, error) {
	minAvailable := s.d.Spec.GetReplicas() - MaxUnavailable(s.d)
	var available int32
	for _, rs := range all {
		if rs != nil {
			available += availableOf(rs)
		}
	}
	if available <= minAvailable {
		return 0, nil
	}
	totalDown := available - minAvailable
	sortByCreation(old)
	var done int32
	for _, rs := range old {
		if done >= totalDown {
			break
		}
		if replicas(rs) == 0 {
			continue
		}
		down := min(replicas(rs), totalDown-done)
		if _, _, err := s.scaleRS(ctx, rs, replicas(rs)-down); err != nil {
			return done, err
		}
		done += down
	}
	return done, nil
}

// availableOf is a replica set's available replicas as far as they can be
// counted on: its status, but no more than its spec. Right after a scale
// down the status still counts the pods being deleted; trusting it would
// let a second scale down take availability below the minimum.
func availableOf(rs *appsv1.ReplicaSet) int32 {
	if rs == nil {
		return 0
	}
	return min(rs.GetStatus().GetAvailableReplicas(), replicas(rs))
}
