package labelpreference

import (
	"context"
	"encoding/json"
	"testing"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
)

func node(labels map[string]string) *framework.NodeInfo {
	ni := framework.NewNodeInfo()
	ni.SetNode(&corev1.Node{Metadata: &metav1.ObjectMeta{Name: "n", Labels: labels}})
	return ni
}

func TestPlugin(t *testing.T) {
	p, err := New(context.Background(), json.RawMessage(`{"prefer":"tier=fast","avoid":"maintenance"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	lp := p.(*LabelPreference)
	pod := framework.NewPodInfo(&corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p"}, Spec: &corev1.PodSpec{}})
	for _, tc := range []struct {
		desc   string
		labels map[string]string
		code   framework.Code
		score  int64
	}{
		{"preferred", map[string]string{"tier": "fast"}, framework.Success, 100},
		{"other value", map[string]string{"tier": "slow"}, framework.Success, 0},
		{"no label", nil, framework.Success, 0},
		{"avoided", map[string]string{"tier": "fast", "maintenance": ""}, framework.UnschedulableAndUnresolvable, 100},
	} {
		n := node(tc.labels)
		if st := lp.Filter(context.Background(), nil, pod, n); st.Code() != tc.code {
			t.Errorf("%s: Filter = %v, want %v", tc.desc, st, tc.code)
		}
		if s, _ := lp.Score(context.Background(), nil, pod, n); s != tc.score {
			t.Errorf("%s: Score = %d, want %d", tc.desc, s, tc.score)
		}
	}
	for _, bad := range []string{`{"prefer":"nolabel"}`, `{"unknown":true}`} {
		if _, err := New(context.Background(), json.RawMessage(bad), nil); err == nil {
			t.Errorf("args %s: no error", bad)
		}
	}
}
