package app

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(o *Options)
		wantErr string
	}{
		{"defaults with a kubeconfig", func(*Options) {}, ""},
		{"no kubeconfig", func(o *Options) { o.Kubeconfig = "" }, "--kubeconfig is required"},
		{"bad node name", func(o *Options) { o.NodeName = "Not_A_Name" }, "--hostname-override"},
		{"bad runtime", func(o *Options) { o.Runtime = "podman" }, "--runtime"},
		{"bad label", func(o *Options) { o.NodeLabels = map[string]string{"a b": "c"} }, "--node-labels"},
		{"bad taint", func(o *Options) { o.RegisterWithTaints = []string{"k=v:Sometimes"} }, "--register-with-taints"},
		{"bad capacity", func(o *Options) { o.Capacity = map[string]string{"cpu": "lots"} }, "--capacity"},
		{"cert without key", func(o *Options) { o.TLSCertFile = "c.pem" }, "--tls-cert-file"},
		{"backoff max below initial", func(o *Options) { o.CrashLoopBackOffMax = 1 }, "--crashloop-backoff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOptions()
			o.Kubeconfig = "/etc/gantry/kubelet.conf"
			o.NodeName = "node-1"
			tt.change(o)
			errs := o.Validate()
			if tt.wantErr == "" {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors: %v", errs)
				}
				return
			}
			if len(errs) == 0 || !strings.Contains(errs[0].Error(), tt.wantErr) {
				t.Fatalf("errors %v, want one containing %q", errs, tt.wantErr)
			}
		})
	}
}

func TestParseTaints(t *testing.T) {
	got, err := parseTaints([]string{"dedicated=gpu:NoSchedule", "maintenance:NoExecute"})
	if err != nil {
		t.Fatal(err)
	}
	want := []*corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: "NoSchedule"}, {Key: "maintenance", Effect: "NoExecute"}}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("taints (-want +got):\n%s", diff)
	}
}
