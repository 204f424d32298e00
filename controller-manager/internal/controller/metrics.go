package controller

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client/workqueue"
)

// Metrics are the controllers' Prometheus metrics.
type Metrics struct {
	reg      prometheus.Registerer
	syncs    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the controllers' metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg: reg,
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controller_syncs_total", Help: "Syncs by controller and result (success, error).",
		}, []string{"controller", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "controller_sync_duration_seconds", Help: "How long one sync took, by controller.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"controller"}),
	}
	reg.MustRegister(m.syncs, m.duration)
	return m
}

func (m *Metrics) queueDepth(name string, q workqueue.Interface) {
	if m == nil {
		return
	}
	_ = m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "controller_queue_depth", Help: "Keys waiting in a controller's work queue.",
		ConstLabels: prometheus.Labels{"controller": name},
	}, func() float64 { return float64(q.Len()) }))
}

func (m *Metrics) observe(name string, took time.Duration, err error) {
	if m == nil {
		return
	}
	result := "success"
	if err != nil {
		result = "error"
	}
	m.syncs.WithLabelValues(name, result).Inc()
	m.duration.WithLabelValues(name).Observe(took.Seconds())
}

// RunWorkers is the package's RunWorkers, counting and timing each sync of
// the controller name in c's metrics (when it has any).
func (c *Context) RunWorkers(ctx context.Context, name string, log *zap.Logger, q workqueue.Interface, workers int, syncFn SyncFunc) {
	c.Metrics.queueDepth(name, q)
	RunWorkers(ctx, log, q, workers, func(ctx context.Context, key string) error {
		start := time.Now()
		err := syncFn(ctx, key)
		c.Metrics.observe(name, time.Since(start), err)
		return err
	})
}
