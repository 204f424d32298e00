package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	cfg, err := Parse([]byte(`apiVersion: scheduler.gantry.io/v1
kind: SchedulerConfiguration
percentageOfNodesToScore: 20
leaderElection:
  leaderElect: false
  leaseDuration: 30s
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packer
  plugins:
    score:
      disabled:
      - name: NodeResourcesBalancedAllocation
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PercentageOfNodesToScore != 20 || cfg.Parallelism != 16 || cfg.PodMaxBackoffSeconds != 10 {
		t.Errorf("settings = %+v", cfg)
	}
	if *cfg.LeaderElection.LeaderElect || cfg.LeaderElection.LeaseDuration.Duration != 30*time.Second ||
		cfg.LeaderElection.ResourceName != "scheduler" || cfg.LeaderElection.ResourceNamespace != "kube-system" {
		t.Errorf("leaderElection = %+v", cfg.LeaderElection)
	}
	if len(cfg.Profiles) != 2 || cfg.Profiles[1].SchedulerName != "bin-packer" {
		t.Fatalf("profiles = %+v", cfg.Profiles)
	}
	if d := cmp.Diff(`{"scoringStrategy":{"type":"MostAllocated"}}`, string(cfg.Profiles[1].PluginConfig[0].Args)); d != "" {
		t.Errorf("args (-want +got):\n%s", d)
	}
}

func TestDefault(t *testing.T) {
	cfg := Default()
	if len(cfg.Profiles) != 1 || cfg.Profiles[0].SchedulerName != DefaultSchedulerName || !*cfg.LeaderElection.LeaderElect {
		t.Errorf("default = %+v", cfg)
	}
}

func TestParseErrors(t *testing.T) {
	head := "apiVersion: scheduler.gantry.io/v1\nkind: SchedulerConfiguration\n"
	for _, tc := range []struct{ doc, want string }{
		{"apiVersion: v1\nkind: SchedulerConfiguration\n", "apiVersion"},
		{"apiVersion: scheduler.gantry.io/v1\nkind: Pod\n", "kind"},
		{head + "bogus: 1\n", "bogus"},
		{head + "percentageOfNodesToScore: 150\n", "percentageOfNodesToScore"},
		{head + "profiles:\n- schedulerName: a\n- schedulerName: a\n", "duplicate"},
		{head + "leaderElection:\n  leaseDuration: 5s\n  renewDeadline: 10s\n", "leaseDuration"},
		{head + "podInitialBackoffSeconds: 20\n", "podInitialBackoffSeconds"},
	} {
		_, err := Parse([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error naming %q", tc.doc, err, tc.want)
		}
	}
}
