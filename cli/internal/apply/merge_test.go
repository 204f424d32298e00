package apply

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func service(labels map[string]string, selector map[string]string, port int32) *corev1.Service {
	return &corev1.Service{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: labels},
		Spec:     &corev1.ServiceSpec{Selector: selector, Ports: []*corev1.ServicePort{{Port: port}}},
	}
}

// live returns what the server would hold after creating m: server-set
// metadata, defaults and status.
func live(m *corev1.Service, config string) *corev1.Service {
	l := ForCreate(m, config).(*corev1.Service)
	l.Metadata.Uid, l.Metadata.ResourceVersion = "uid-1", "7"
	l.Spec.ClusterIp, l.Spec.Type = "10.96.0.9", "ClusterIP"
	l.Spec.Ports[0].Protocol = "TCP"
	l.Status = &corev1.ServiceStatus{LoadBalancer: &corev1.LoadBalancerStatus{}}
	return l
}

func TestConfigurationDropsServerFields(t *testing.T) {
	m := service(map[string]string{"app": "web"}, nil, 80)
	m.Metadata.Uid, m.Metadata.ResourceVersion = "x", "9"
	m.Metadata.Annotations = map[string]string{LastAppliedAnnotation: "old", "note": "kept"}
	m.Status = &corev1.ServiceStatus{}
	got, err := Configuration(m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default","labels":{"app":"web"},"annotations":{"note":"kept"}},"spec":{"ports":[{"port":80}]}}` + "\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Configuration (-want +got):\n%s", diff)
	}
}

func TestUnchanged(t *testing.T) {
	m := service(map[string]string{"app": "web"}, map[string]string{"app": "web"}, 80)
	config, _ := Configuration(m)
	l := live(m, config)

	same, err := Unchanged(m, l, config)
	if err != nil || !same {
		t.Fatalf("Unchanged(same manifest) = %v, %v; want true (server defaults must not count)", same, err)
	}

	drifted := proto.Clone(l).(*corev1.Service)
	drifted.Metadata.Labels["app"] = "other"
	if same, _ := Unchanged(m, drifted, config); same {
		t.Errorf("Unchanged with a label changed on the server = true, want false")
	}

	m2 := service(map[string]string{"app": "web"}, map[string]string{"app": "web"}, 8080)
	config2, _ := Configuration(m2)
	if same, _ := Unchanged(m2, l, config2); same {
		t.Errorf("Unchanged with a new port = true, want false")
	}

	// The live object's own output (get -o yaml) applied again.
	roundTrip := proto.Clone(l).(*corev1.Service)
	rtConfig, _ := Configuration(roundTrip)
	if same, _ := Unchanged(roundTrip, l, rtConfig); !same {
		t.Errorf("Unchanged(live object's own output) = false, want true")
	}
}

func TestMerge(t *testing.T) {
	m := service(map[string]string{"app": "web", "tier": "front"}, map[string]string{"app": "web"}, 80)
	config, _ := Configuration(m)
	l := live(m, config)
	l.Metadata.Labels["added-by-server"] = "yes"

	// The new manifest drops the tier label and changes the port.
	m2 := service(map[string]string{"app": "web"}, map[string]string{"app": "web"}, 8080)
	config2, _ := Configuration(m2)
	got, err := Merge(m2, l, config2)
	if err != nil {
		t.Fatal(err)
	}
	want := proto.Clone(l).(*corev1.Service)
	want.Metadata.Labels = map[string]string{"app": "web", "added-by-server": "yes"}
	want.Metadata.Annotations[LastAppliedAnnotation] = config2
	want.Spec.Ports = []*corev1.ServicePort{{Port: 8080}} // lists are replaced; the server defaults them again
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("Merge (-want +got):\n%s", diff)
	}
}

func TestMergeRemovesFieldTheManifestNoLongerSets(t *testing.T) {
	d := &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:     &appsv1.DeploymentSpec{Replicas: proto.Int32(3), Paused: true, MinReadySeconds: 5},
	}
	config, _ := Configuration(d)
	l := ForCreate(d, config).(*appsv1.Deployment)
	l.Metadata.ResourceVersion = "3"
	l.Spec.RevisionHistoryLimit = proto.Int32(10) // a default

	d2 := &appsv1.Deployment{
		Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:     &appsv1.DeploymentSpec{Replicas: proto.Int32(3)},
	}
	config2, _ := Configuration(d2)
	got, err := Merge(d2, l, config2)
	if err != nil {
		t.Fatal(err)
	}
	g := got.(*appsv1.Deployment)
	if g.Spec.Paused || g.Spec.MinReadySeconds != 0 {
		t.Errorf("paused=%v minReadySeconds=%d, want both removed", g.Spec.Paused, g.Spec.MinReadySeconds)
	}
	if g.Spec.GetRevisionHistoryLimit() != 10 || g.Metadata.ResourceVersion != "3" {
		t.Errorf("server default or resourceVersion lost: %v", g)
	}
}

func TestMergeKeepsWhatTheServerSetInListItems(t *testing.T) {
	m := service(nil, map[string]string{"app": "web"}, 80)
	m.Spec.Type = "NodePort"
	config, _ := Configuration(m)
	l := live(m, config)
	l.Spec.Ports[0].NodePort = 31234                                                      // allocated by the server
	l.Spec.Ports = append(l.Spec.Ports, &corev1.ServicePort{Port: 9090, Protocol: "TCP"}) // added by someone else

	m2 := service(nil, map[string]string{"app": "web2"}, 80)
	m2.Spec.Type = "NodePort"
	config2, _ := Configuration(m2)
	got, err := Merge(m2, l, config2)
	if err != nil {
		t.Fatal(err)
	}
	ports := got.(*corev1.Service).Spec.Ports
	want := []*corev1.ServicePort{{Port: 80, Protocol: "TCP", NodePort: 31234}, {Port: 9090, Protocol: "TCP"}}
	if diff := cmp.Diff(want, ports, protocmp.Transform()); diff != "" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
	if sel := got.(*corev1.Service).Spec.Selector["app"]; sel != "web2" {
		t.Errorf("selector app = %q", sel)
	}
}

func TestMergeListByName(t *testing.T) {
	pod := func(images ...string) *corev1.Pod {
		p := &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "p", Namespace: "default"}, Spec: &corev1.PodSpec{}}
		for i, img := range images {
			p.Spec.Containers = append(p.Spec.Containers, &corev1.Container{Name: []string{"a", "b"}[i], Image: img})
		}
		return p
	}
	m := pod("nginx:1", "busybox:1")
	config, _ := Configuration(m)
	l := ForCreate(m, config).(*corev1.Pod)
	for _, c := range l.Spec.Containers {
		c.TerminationMessagePath = "/dev/termination-log" // a default
	}
	m2 := pod("nginx:2") // b removed, a changed
	config2, _ := Configuration(m2)
	got, err := Merge(m2, l, config2)
	if err != nil {
		t.Fatal(err)
	}
	want := []*corev1.Container{{Name: "a", Image: "nginx:2", TerminationMessagePath: "/dev/termination-log"}}
	if diff := cmp.Diff(want, got.(*corev1.Pod).Spec.Containers, protocmp.Transform()); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}
}

func TestStrategicMerge(t *testing.T) {
	doc := map[string]any{"spec": map[string]any{
		"replicas": 1, "paused": true,
		"template": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"name": "a", "image": "nginx:1", "imagePullPolicy": "IfNotPresent"},
			map[string]any{"name": "b", "image": "busybox"},
		}}},
	}}
	patch := map[string]any{"spec": map[string]any{
		"paused": nil,
		"template": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"name": "a", "image": "nginx:2"},
		}}},
	}}
	got := StrategicMerge(doc, patch)
	want := map[string]any{"spec": map[string]any{
		"replicas": 1,
		"template": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"name": "a", "image": "nginx:2", "imagePullPolicy": "IfNotPresent"},
			map[string]any{"name": "b", "image": "busybox"},
		}}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
