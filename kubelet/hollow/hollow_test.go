package hollow

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gantryhq/gantry/client/clienttest"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func TestManyHollowNodesRunPods(t *testing.T) {
	cs, _ := clienttest.New(t)
	ctx := context.Background()
	const n = 20
	var nodes []*Node
	for i := range n {
		node, err := Start(ctx, cs, fmt.Sprintf("hollow-%d", i), Options{Labels: map[string]string{"pool": "hollow"}})
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, node)
		t.Cleanup(node.Stop)
	}
	for i := range n {
		pod := &corev1.Pod{
			Metadata: &metav1.ObjectMeta{Name: fmt.Sprintf("p-%d", i), Namespace: "default"},
			Spec:     &corev1.PodSpec{NodeName: nodes[i].Name(), RestartPolicy: "Always", Containers: []*corev1.Container{{Name: "c", Image: "x"}}},
		}
		if _, err := cs.Pods("default").Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for i := range n {
		for {
			p, err := cs.Pods("default").Get(ctx, fmt.Sprintf("p-%d", i))
			if err == nil && p.GetStatus().GetPhase() == "Running" && p.GetStatus().GetPodIp() != "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pod p-%d not Running: %v", i, p.GetStatus())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	nodeList, err := cs.Nodes().Get(ctx, "hollow-3")
	if err != nil || nodeList.GetMetadata().GetLabels()["pool"] != "hollow" {
		t.Fatalf("node hollow-3: %v %v", nodeList, err)
	}
}
