package queuesort

import (
	"testing"
	"time"

	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/schedtest"
)

func TestLess(t *testing.T) {
	now := time.Now()
	q := func(prio int32, at time.Time) *framework.QueuedPodInfo {
		return &framework.QueuedPodInfo{PodInfo: framework.NewPodInfo(schedtest.MakePod("p").Priority(prio).Obj()), Timestamp: at}
	}
	for _, tc := range []struct {
		desc string
		a, b *framework.QueuedPodInfo
		want bool
	}{
		{"higher priority first", q(10, now), q(1, now.Add(-time.Hour)), true},
		{"lower priority later", q(1, now), q(10, now), false},
		{"same priority, earlier first", q(5, now), q(5, now.Add(time.Second)), true},
		{"same priority, later second", q(5, now.Add(time.Second)), q(5, now), false},
	} {
		if got := (PrioritySort{}).Less(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: Less = %v, want %v", tc.desc, got, tc.want)
		}
	}
}
