package app

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(o *Options)
		wantErr string
	}{
		{"defaults", func(*Options) {}, ""},
		{"no data dir", func(o *Options) { o.DataDir = "" }, "--data-dir"},
		{"bad bind address", func(o *Options) { o.BindAddress = "localhost" }, "--bind-address"},
		{"cert without key", func(o *Options) { o.TLSCertFile = "c.pem" }, "--tls-cert-file and --tls-private-key-file"},
		{"etcd without scheme", func(o *Options) { o.EtcdServers = []string{"10.0.0.1:2379"} }, "--etcd-servers"},
		{"negative compaction", func(o *Options) { o.EtcdCompactionInterval = -time.Second }, "--etcd-compaction-interval"},
		{"event TTL under a second", func(o *Options) { o.EventTTL = 500 * time.Millisecond }, "--event-ttl 500ms must be at least 1s"},
		{"bad log level", func(o *Options) { o.LogLevel = "loud" }, "--log-level"},
		{"bad service range", func(o *Options) { o.ServiceClusterIPRange = "10.0.0.0" }, "--service-cluster-ip-range"},
		{"bad node port range", func(o *Options) { o.ServiceNodePortRange = "1-70000" }, "--service-node-port-range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := NewOptions()
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
