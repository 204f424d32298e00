package app

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEnabledControllers(t *testing.T) {
	all := AllControllers()
	tests := []struct {
		spec    []string
		want    []string
		wantErr bool
	}{
		{spec: []string{"*"}, want: all},
		{spec: []string{"*", "-deployment"}, want: without(all, "deployment")},
		{spec: []string{"-deployment", "*"}, want: without(all, "deployment")},
		{spec: []string{"replicaset"}, want: []string{"replicaset"}},
		{spec: []string{"*", "-nope"}, wantErr: true},
		{spec: []string{"nope"}, wantErr: true},
		{spec: nil, want: nil},
	}
	for _, tt := range tests {
		got, err := EnabledControllers(tt.spec)
		if (err != nil) != tt.wantErr {
			t.Errorf("%v: err = %v, wantErr %v", tt.spec, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.spec, diff)
		}
	}
}

func TestValidate(t *testing.T) {
	o := NewOptions()
	if errs := o.Validate(); len(errs) > 0 {
		t.Fatalf("defaults invalid: %v", errs)
	}
	o.RenewDeadline = o.LeaseDuration
	o.Controllers = []string{"bogus"}
	o.NodeEvictionRate = 0
	if errs := o.Validate(); len(errs) != 3 {
		t.Fatalf("got %d errors, want 3: %v", len(errs), errs)
	}
}

func without(s []string, x string) []string {
	var out []string
	for _, v := range s {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}
