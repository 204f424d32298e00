package scheduler

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the scheduler's Prometheus metrics.
type Metrics struct {
	PendingPods      *prometheus.GaugeVec
	ScheduleAttempts *prometheus.CounterVec
	AttemptDuration  *prometheus.HistogramVec
	E2EDuration      *prometheus.HistogramVec
	BindingsInFlight prometheus.Gauge
}

// Attempt results.
const (
	resultScheduled     = "scheduled"
	resultUnschedulable = "unschedulable"
	resultError         = "error"
)

// NewMetrics makes the metrics and registers them on reg (if not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		PendingPods: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "scheduler", Name: "pending_pods",
			Help: "Pending pods, by queue: active, backoff, unschedulable.",
		}, []string{"queue"}),
		ScheduleAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "scheduler", Name: "schedule_attempts_total",
			Help: "Scheduling attempts, by result (scheduled, unschedulable, error) and profile.",
		}, []string{"result", "profile"}),
		AttemptDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "scheduler", Name: "scheduling_attempt_duration_seconds",
			Help:    "Latency of a scheduling attempt (algorithm and assume; binding excluded), by result and profile.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}, []string{"result", "profile"}),
		E2EDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "scheduler", Name: "pod_scheduling_duration_seconds",
			Help:    "Time from a pod's first scheduling attempt to its successful binding.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 20),
		}, []string{"profile"}),
		BindingsInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "scheduler", Name: "bindings_in_flight",
			Help: "Bindings running now.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.PendingPods, m.ScheduleAttempts, m.AttemptDuration, m.E2EDuration, m.BindingsInFlight)
	}
	return m
}
