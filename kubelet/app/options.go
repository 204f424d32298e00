package app

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Version is the kubelet's version (set with -ldflags "-X ...app.Version=").
var Version = "v0.1.0-gantry"

// Options are the kubelet's flags.
type Options struct {
	Kubeconfig string
	Context    string
	NodeName   string
	NodeIP     string
	NodeLabels map[string]string
	// RegisterWithTaints in key=value:Effect form.
	RegisterWithTaints []string
	Capacity           map[string]string

	Runtime    string
	DockerHost string
	PodNetwork string
	PauseImage string
	RootDir    string

	Address            string
	Port               int
	HealthzBindAddress string
	HealthzPort        int
	TLSCertFile        string
	TLSPrivateKeyFile  string
	ClientCAFile       string
	AuthorizedGroups   []string
	AuthorizedUsers    []string

	NodeStatusUpdateFrequency time.Duration
	NodeStatusReportFrequency time.Duration
	NodeLeaseRenewInterval    time.Duration
	NodeLeaseDurationSeconds  int
	CrashLoopBackOffInitial   time.Duration
	CrashLoopBackOffMax       time.Duration
	ImagePullBackOffInitial   time.Duration
	ImagePullBackOffMax       time.Duration
	ResyncInterval            time.Duration
	ImagePullFallbackLocal    bool

	LogLevel string
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	host, _ := os.Hostname()
	return &Options{
		NodeName:                  strings.ToLower(host),
		Runtime:                   "docker",
		PodNetwork:                "gantry",
		PauseImage:                "gantry/pause:latest",
		RootDir:                   "/var/lib/gantry/kubelet",
		Address:                   "0.0.0.0",
		Port:                      10250,
		HealthzBindAddress:        "127.0.0.1",
		HealthzPort:               10248,
		AuthorizedGroups:          []string{"system:masters"},
		NodeStatusUpdateFrequency: 10 * time.Second,
		NodeStatusReportFrequency: time.Minute,
		NodeLeaseRenewInterval:    10 * time.Second,
		NodeLeaseDurationSeconds:  40,
		CrashLoopBackOffInitial:   10 * time.Second,
		CrashLoopBackOffMax:       5 * time.Minute,
		ImagePullBackOffInitial:   10 * time.Second,
		ImagePullBackOffMax:       5 * time.Minute,
		ResyncInterval:            30 * time.Second,
		ImagePullFallbackLocal:    true,
		LogLevel:                  "info",
	}
}

// AddFlags registers the options' flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "client config file of the apiserver (required)")
	fs.StringVar(&o.Context, "context", o.Context, "context of the client config to use (default: its current context)")
	fs.StringVar(&o.NodeName, "hostname-override", o.NodeName, "the node's name (default: the host name)")
	fs.StringVar(&o.NodeIP, "node-ip", o.NodeIP, "the node's InternalIP (default: the first address of an up, non-loopback interface)")
	fs.StringToStringVar(&o.NodeLabels, "node-labels", o.NodeLabels, "labels to add to the Node (key=value,...)")
	fs.StringSliceVar(&o.RegisterWithTaints, "register-with-taints", o.RegisterWithTaints, "taints of the Node when the kubelet creates it (key=value:Effect,...)")
	fs.StringToStringVar(&o.Capacity, "capacity", o.Capacity, "capacity to report instead of the detected one (cpu=4,memory=8Gi,pods=110)")
	fs.StringVar(&o.Runtime, "runtime", o.Runtime, `container runtime: "docker", or "fake" (no containers: pods run at once; for hollow nodes)`)
	fs.StringVar(&o.DockerHost, "docker-host", o.DockerHost, "Docker engine address (default: DOCKER_HOST or the local socket)")
	fs.StringVar(&o.PodNetwork, "pod-network", o.PodNetwork, "Docker network the pods join (created as a bridge when missing)")
	fs.StringVar(&o.PodNetwork, "network", o.PodNetwork, "alias of --pod-network")
	fs.StringVar(&o.PauseImage, "pod-infra-container-image", o.PauseImage, "image of the pods' sandbox (pause) containers")
	fs.StringVar(&o.RootDir, "root-dir", o.RootDir, "directory of the pods' volumes")
	fs.StringVar(&o.Address, "address", o.Address, "address the kubelet's gRPC API (logs, exec) listens on")
	fs.IntVar(&o.Port, "port", o.Port, "port of the kubelet's gRPC API; 0 picks a free one; -1 disables it")
	fs.StringVar(&o.HealthzBindAddress, "healthz-bind-address", o.HealthzBindAddress, "address of /livez /readyz /metrics /debug/pprof")
	fs.IntVar(&o.HealthzPort, "healthz-port", o.HealthzPort, "port of /livez /readyz /metrics /debug/pprof; 0 disables it")
	fs.StringVar(&o.TLSCertFile, "tls-cert-file", o.TLSCertFile, "serving certificate of the gRPC API (default: a self-signed one, made at start)")
	fs.StringVar(&o.TLSPrivateKeyFile, "tls-private-key-file", o.TLSPrivateKeyFile, "key of --tls-cert-file")
	fs.StringVar(&o.ClientCAFile, "client-ca-file", o.ClientCAFile, "CA that signs the client certificates the gRPC API accepts (the apiserver's <data-dir>/pki/ca.crt); without it the API is off")
	fs.StringSliceVar(&o.AuthorizedGroups, "authorized-groups", o.AuthorizedGroups, "client certificate groups (O) allowed to call the gRPC API")
	fs.StringSliceVar(&o.AuthorizedUsers, "authorized-users", o.AuthorizedUsers, "client certificate users (CN) allowed to call the gRPC API")
	fs.DurationVar(&o.NodeStatusUpdateFrequency, "node-status-update-frequency", o.NodeStatusUpdateFrequency, "how often node status is computed (and written when it changed)")
	fs.DurationVar(&o.NodeStatusReportFrequency, "node-status-report-frequency", o.NodeStatusReportFrequency, "how often node status is written when nothing changed")
	fs.DurationVar(&o.NodeLeaseRenewInterval, "node-lease-renew-interval", o.NodeLeaseRenewInterval, "how often the node's Lease is renewed")
	fs.IntVar(&o.NodeLeaseDurationSeconds, "node-lease-duration-seconds", o.NodeLeaseDurationSeconds, "the node Lease's leaseDurationSeconds")
	fs.DurationVar(&o.CrashLoopBackOffInitial, "crashloop-backoff-initial", o.CrashLoopBackOffInitial, "first restart back-off of a crashing container (doubles each restart)")
	fs.DurationVar(&o.CrashLoopBackOffMax, "crashloop-backoff-max", o.CrashLoopBackOffMax, "largest restart back-off of a crashing container")
	fs.DurationVar(&o.ImagePullBackOffInitial, "image-pull-backoff-initial", o.ImagePullBackOffInitial, "first back-off after a failed image pull")
	fs.DurationVar(&o.ImagePullBackOffMax, "image-pull-backoff-max", o.ImagePullBackOffMax, "largest back-off after failed image pulls")
	fs.DurationVar(&o.ResyncInterval, "resync-interval", o.ResyncInterval, "how often every pod is synced and orphaned containers looked for, beside events")
	fs.BoolVar(&o.ImagePullFallbackLocal, "image-pull-fallback-local", o.ImagePullFallbackLocal, "under imagePullPolicy Always, run the local copy of an image when the pull fails (for machines without a registry)")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "debug, info, warn or error")
}

// Validate checks the options.
func (o *Options) Validate() []error {
	var errs []error
	if o.Kubeconfig == "" {
		errs = append(errs, errors.New("--kubeconfig is required"))
	}
	for _, msg := range validation.IsDNS1123Subdomain(o.NodeName) {
		errs = append(errs, fmt.Errorf("--hostname-override %q: %s", o.NodeName, msg))
	}
	if o.Runtime != "docker" && o.Runtime != "fake" {
		errs = append(errs, fmt.Errorf("--runtime %q: must be docker or fake", o.Runtime))
	}
	for k, v := range o.NodeLabels {
		for _, msg := range validation.IsQualifiedName(k) {
			errs = append(errs, fmt.Errorf("--node-labels %s: %s", k, msg))
		}
		for _, msg := range validation.IsValidLabelValue(v) {
			errs = append(errs, fmt.Errorf("--node-labels %s=%s: %s", k, v, msg))
		}
	}
	if _, err := parseTaints(o.RegisterWithTaints); err != nil {
		errs = append(errs, err)
	}
	for k, v := range o.Capacity {
		if _, err := resource.ParseQuantity(v); err != nil {
			errs = append(errs, fmt.Errorf("--capacity %s=%s: %w", k, v, err))
		}
	}
	if o.Port > 65535 || o.Port < -1 {
		errs = append(errs, fmt.Errorf("--port %d: out of range", o.Port))
	}
	if (o.TLSCertFile == "") != (o.TLSPrivateKeyFile == "") {
		errs = append(errs, errors.New("--tls-cert-file and --tls-private-key-file go together"))
	}
	if o.CrashLoopBackOffInitial <= 0 || o.CrashLoopBackOffMax < o.CrashLoopBackOffInitial {
		errs = append(errs, errors.New("--crashloop-backoff-initial must be > 0 and <= --crashloop-backoff-max"))
	}
	if o.ImagePullBackOffInitial <= 0 || o.ImagePullBackOffMax < o.ImagePullBackOffInitial {
		errs = append(errs, errors.New("--image-pull-backoff-initial must be > 0 and <= --image-pull-backoff-max"))
	}
	return errs
}

// parseTaints reads key=value:Effect (value optional).
func parseTaints(specs []string) ([]*corev1.Taint, error) {
	var out []*corev1.Taint
	for _, s := range specs {
		kv, effect, ok := strings.Cut(s, ":")
		if !ok {
			return nil, fmt.Errorf("--register-with-taints %q: want key=value:Effect", s)
		}
		switch effect {
		case "NoSchedule", "PreferNoSchedule", "NoExecute":
		default:
			return nil, fmt.Errorf("--register-with-taints %q: effect must be NoSchedule, PreferNoSchedule or NoExecute", s)
		}
		k, v, _ := strings.Cut(kv, "=")
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			return nil, fmt.Errorf("--register-with-taints %q: %s", s, strings.Join(msgs, "; "))
		}
		out = append(out, &corev1.Taint{Key: k, Value: v, Effect: effect})
	}
	return out, nil
}
