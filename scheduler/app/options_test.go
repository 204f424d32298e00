package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/gantryhq/gantry/scheduler/framework"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // substring of the error; "" for none
	}{
		{nil, ""},
		{[]string{"--secure-port", "-1"}, ""},
		{[]string{"--secure-port", "70000"}, "--secure-port"},
		{[]string{"--bind-address", "nowhere"}, "--bind-address"},
		{[]string{"--log-level", "loud"}, "--log-level"},
		{[]string{"--config", "/does/not/exist"}, "--config"},
	} {
		o := NewOptions()
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		o.AddFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		errs := o.Validate()
		var msg string
		for _, e := range errs {
			msg += e.Error() + ";"
		}
		if tc.want == "" && len(errs) > 0 || tc.want != "" && !strings.Contains(msg, tc.want) {
			t.Errorf("%v: Validate = %q, want %q", tc.args, msg, tc.want)
		}
	}
}

func TestLeaderElectFlagOverridesConfig(t *testing.T) {
	dir := t.TempDir()
	kc := writeKubeconfig(t)
	cfgFile := filepath.Join(dir, "scheduler.yaml")
	if err := os.WriteFile(cfgFile, []byte("apiVersion: scheduler.gantry.io/v1\nkind: SchedulerConfiguration\nleaderElection:\n  leaderElect: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--kubeconfig", kc, "--config", cfgFile}, true},
		{[]string{"--kubeconfig", kc, "--config", cfgFile, "--leader-elect=false"}, false},
		{[]string{"--kubeconfig", kc}, true},
	} {
		o := NewOptions()
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		o.AddFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		if errs := o.Validate(); len(errs) > 0 {
			t.Fatal(errs)
		}
		cfg, err := o.Config()
		if err != nil {
			t.Fatal(err)
		}
		if got := *cfg.Component.LeaderElection.LeaderElect; got != tc.want {
			t.Errorf("%v: leaderElect = %v, want %v", tc.args, got, tc.want)
		}
	}
}

func writeKubeconfig(t *testing.T) string {
	t.Helper()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: abc}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	return kc
}

func TestWithPlugin(t *testing.T) {
	if err := WithPlugin("", nil)(framework.Registry{}); err == nil {
		t.Error("WithPlugin without name or factory: no error")
	}
	factory := func(context.Context, json.RawMessage, framework.Handle) (framework.Plugin, error) { return nil, nil }
	kc := writeKubeconfig(t)
	for _, tc := range []struct {
		name    string
		wantErr bool
	}{{"MyPlugin", false}, {"NodeName", true}} {
		o := NewOptions()
		o.Kubeconfig = kc
		cfg, err := o.Config(WithPlugin(tc.name, factory))
		if (err != nil) != tc.wantErr {
			t.Errorf("WithPlugin(%q): err = %v, want error %v", tc.name, err, tc.wantErr)
		}
		if err == nil && cfg.Registry[tc.name] == nil {
			t.Errorf("WithPlugin(%q): not in the registry", tc.name)
		}
	}
}
