package kubelet

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the kubelet's Prometheus metrics.
type Metrics struct {
	podStart   prometheus.Histogram
	podSync    prometheus.Histogram
	syncErrors prometheus.Counter
	pods       prometheus.Gauge
	restarts   prometheus.Counter
}

// NewMetrics registers the kubelet's metrics with reg (nil: not exported).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		podStart: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kubelet_pod_start_duration_seconds",
			Help:    "Time from the kubelet first seeing a pod to its first Running status.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12),
		}),
		podSync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kubelet_pod_worker_duration_seconds",
			Help:    "Duration of one pod sync.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}),
		syncErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kubelet_pod_sync_errors_total",
			Help: "Pod syncs that failed (and were retried).",
		}),
		pods: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kubelet_running_pods",
			Help: "Pods bound to this node that the kubelet knows of.",
		}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kubelet_container_restarts_total",
			Help: "Containers started again after a previous instance.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.podStart, m.podSync, m.syncErrors, m.pods, m.restarts)
	}
	return m
}

func (m *Metrics) observeSync(start time.Time, err error) {
	m.podSync.Observe(time.Since(start).Seconds())
	if err != nil {
		m.syncErrors.Inc()
	}
}
