package strategy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"k8s.io/utils/ptr"

	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func TestAllCoversScheme(t *testing.T) {
	all := All()
	for _, r := range scheme.All() {
		if all[r.Name] == nil {
			t.Errorf("no strategy for %s", r.Name)
		}
	}
	if len(all) != len(scheme.All()) {
		t.Errorf("All() has %d strategies, scheme has %d resources", len(all), len(scheme.All()))
	}
}

func TestPodGracePeriod(t *testing.T) {
	tests := []struct {
		name      string
		pod       *corev1.Pod
		requested *int64
		want      int64
		wantOK    bool
	}{
		{name: "bound pod uses its own period", pod: simplePod().Node("n1").Grace(45).Obj(), want: 45, wantOK: true},
		{name: "unset period is 30", pod: simplePod().Node("n1").Obj(), want: 30, wantOK: true},
		{name: "requested period wins", pod: simplePod().Node("n1").Grace(45).Obj(), requested: ptr.To(int64(5)), want: 5, wantOK: true},
		{name: "requested 0 deletes at once", pod: simplePod().Node("n1").Obj(), requested: ptr.To(int64(0))},
		{name: "unbound pod goes at once", pod: simplePod().Grace(45).Obj()},
		{name: "succeeded pod goes at once", pod: simplePod().Node("n1").Phase("Succeeded").Obj()},
		{name: "failed pod goes at once", pod: simplePod().Node("n1").Phase("Failed").Obj()},
		{name: "negative period becomes 1", pod: simplePod().Node("n1").Grace(-5).Obj(), want: 1, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Pod{}.GracePeriod(tt.pod, tt.requested)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("GracePeriod() = %d, %v; want %d, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestPodQOS(t *testing.T) {
	tests := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{name: "no resources", pod: simplePod().Obj(), want: "BestEffort"},
		{name: "limits only (requests default to them)", pod: makePod().Container(makeContainer("a", "x").Limits("cpu", "1", "memory", "1Gi").Obj()).Obj(), want: "Guaranteed"},
		{name: "requests below limits", pod: makePod().Container(makeContainer("a", "x").Limits("cpu", "1", "memory", "1Gi").Requests("cpu", "500m").Obj()).Obj(), want: "Burstable"},
		{name: "memory limit only", pod: makePod().Container(makeContainer("a", "x").Limits("memory", "1Gi").Obj()).Obj(), want: "Burstable"},
		{
			name: "one guaranteed, one best-effort container",
			pod: makePod().Container(makeContainer("a", "x").Limits("cpu", "1", "memory", "1Gi").Obj()).
				Container(makeContainer("b", "x").Obj()).Obj(),
			want: "Burstable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			Pod{}.PrepareForCreate(tt.pod)
			if got := tt.pod.Status.QosClass; got != tt.want {
				t.Errorf("qosClass = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestImageTag(t *testing.T) {
	for image, want := range map[string]string{
		"nginx":                           "latest",
		"nginx:1.27":                      "1.27",
		"nginx:latest":                    "latest",
		"localhost:5000/app":              "latest",
		"localhost:5000/app:v2":           "v2",
		"busybox@sha256:0123456789abcdef": "",
		"busybox:1.36@sha256:0123abcd":    "1.36",
	} {
		if got := imageTag(image); got != want {
			t.Errorf("imageTag(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestNamespaceDeletion(t *testing.T) {
	ns := &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "a"}}
	s := Namespace{}
	s.PrepareForCreate(ns)
	s.PrepareForDelete(ns)
	if ns.Status.Phase != "Terminating" {
		t.Errorf("phase = %q, want Terminating", ns.Status.Phase)
	}
	if !s.HoldsDeletion(ns) {
		t.Error("HoldsDeletion = false with the kubernetes finalizer, want true")
	}
	ns.Spec.Finalizers = nil
	if s.HoldsDeletion(ns) {
		t.Error("HoldsDeletion = true without finalizers, want false")
	}
}

func TestServicePrepareForUpdate(t *testing.T) {
	old := makeService()
	old.Spec.Type = "NodePort"
	old.Spec.ClusterIp = "10.96.0.10"
	old.Spec.Ports[0].NodePort = 30080
	create(Service{}, old)

	// A manifest applied again, without the allocated values.
	obj := makeService()
	obj.Spec.Type = "NodePort"
	Service{}.PrepareForUpdate(obj, old)
	Service{}.Default(obj)
	if errs := (Service{}).ValidateUpdate(obj, old); len(errs) > 0 {
		t.Fatalf("ValidateUpdate = %v, want none", errs)
	}
	want := clone(old).Spec
	if diff := cmp.Diff(want, obj.Spec, protocmp.Transform()); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
}

func TestNamespacePrepareForUpdate(t *testing.T) {
	old := &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "a"}}
	create(Namespace{}, old)

	// Applying the manifest again keeps the finalizer of an active namespace.
	obj := &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "a", Labels: map[string]string{"team": "a"}}}
	Namespace{}.PrepareForUpdate(obj, old)
	if errs := (Namespace{}).ValidateUpdate(obj, old); len(errs) > 0 {
		t.Fatalf("ValidateUpdate = %v, want none", errs)
	}
	if got := obj.GetSpec().GetFinalizers(); len(got) != 1 || got[0] != FinalizerKubernetes {
		t.Errorf("finalizers = %v, want [kubernetes]", got)
	}

	// The namespace controller clears them once the namespace terminates.
	Namespace{}.PrepareForDelete(old)
	obj = clone(old)
	obj.Spec.Finalizers = nil
	Namespace{}.PrepareForUpdate(obj, old)
	if len(obj.Spec.Finalizers) != 0 {
		t.Errorf("finalizers = %v, want none", obj.Spec.Finalizers)
	}
}
