package provider_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider/fake"
)

func TestRegistry(t *testing.T) {
	var region string
	mine := provider.Registration{
		Name:     "mycloud",
		AddFlags: func(fs *pflag.FlagSet) { fs.StringVar(&region, "mycloud-region", "eu", "") },
		New: func(_ context.Context, cfg provider.Config) (provider.Interface, error) {
			if cfg.ClusterName != "c1" {
				t.Errorf("cluster name %q", cfg.ClusterName)
			}
			return fake.New(), nil
		},
	}
	reg, err := provider.NewRegistry(fake.Registration(fake.New()), mine)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"fake", "mycloud"}, reg.Names()); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if err := reg.Register(mine); err == nil {
		t.Error("registering a name twice succeeded")
	}
	if err := reg.Register(provider.Registration{Name: "nonew"}); err == nil {
		t.Error("registering without New succeeded")
	}
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	reg.AddFlags(fs)
	if err := fs.Parse([]string{"--mycloud-region=us"}); err != nil || region != "us" {
		t.Errorf("provider flag: %v, region %q", err, region)
	}
	p, err := reg.New(context.Background(), "mycloud", provider.Config{ClusterName: "c1"})
	if err != nil || p.ProviderName() != "fake" {
		t.Errorf("New: %v, %v", p, err)
	}
	if _, err := reg.New(context.Background(), "aws", provider.Config{}); err == nil || !strings.Contains(err.Error(), "fake, mycloud") {
		t.Errorf("unknown provider error %v should list the registered ones", err)
	}
}
