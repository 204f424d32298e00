package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/informer"
	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/cache"
	"github.com/gantryhq/gantry/scheduler/internal/config"
	"github.com/gantryhq/gantry/scheduler/internal/plugins"
	"github.com/gantryhq/gantry/scheduler/internal/queue"
	"github.com/gantryhq/gantry/scheduler/internal/runtime"
)

// SetupOptions are what Setup wires together.
type SetupOptions struct {
	ClientSet *client.Clientset
	Factory   *informer.Factory
	// Config is the defaulted configuration (nil: the defaults).
	Config *config.SchedulerConfiguration
	// Registry of plugins (nil: the built-in ones).
	Registry framework.Registry
	// EventRecorderFor gives the recorder of a profile, so that its events
	// name the profile's schedulerName as their source, as kube-scheduler's
	// do (nil: no events).
	EventRecorderFor func(schedulerName string) record.EventRecorder
	Registerer       prometheus.Registerer
	Logger           *zap.Logger
}

// Setup wires a scheduler: cache, queue, profiles, and informers on the
// factory with their handlers. Start the factory, wait for the informers,
// then Run the
func Setup(ctx context.Context, o SetupOptions) (*Scheduler, *Informers, error) {
	cs, factory, comp, registry, reg, log := o.ClientSet, o.Factory, o.Config, o.Registry, o.Registerer, o.Logger
	if comp == nil {
		comp = config.Default()
	}
	if registry == nil {
		registry = plugins.NewInTreeRegistry()
	}
	if log == nil {
		log = zap.NewNop()
	}
	snapshot := cache.NewEmptySnapshot()
	profiles := map[string]*runtime.Framework{}
	var names []string
	var first *runtime.Framework
	for _, p := range comp.Profiles {
		var rec record.EventRecorder
		if o.EventRecorderFor != nil {
			rec = o.EventRecorderFor(p.SchedulerName)
		}
		fwk, err := runtime.New(ctx, registry, p, runtime.Options{
			ClientSet:                cs,
			InformerFactory:          factory,
			EventRecorder:            rec,
			Logger:                   log.Named("framework"),
			Parallelism:              int(comp.Parallelism),
			Snapshot:                 snapshot,
			PercentageOfNodesToScore: comp.PercentageOfNodesToScore,
		})
		if err != nil {
			return nil, nil, err
		}
		if first == nil {
			first = fwk
		} else if a, b := first.ListPlugins()["queueSort"], fwk.ListPlugins()["queueSort"]; a[0] != b[0] {
			return nil, nil, fmt.Errorf("profile %q: queueSort plugin %s differs from profile %q's %s; every profile must use the same",
				p.SchedulerName, b[0], first.ProfileName(), a[0])
		}
		profiles[p.SchedulerName] = fwk
		names = append(names, p.SchedulerName)
		log.Info("profile", zap.String("schedulerName", p.SchedulerName), zap.Any("plugins", fwk.ListPlugins()))
	}
	metrics := NewMetrics(reg)
	q := queue.New(first.QueueSortFunc(), queue.Options{
		InitialBackoff: time.Duration(comp.PodInitialBackoffSeconds) * time.Second,
		MaxBackoff:     time.Duration(comp.PodMaxBackoffSeconds) * time.Second,
		OnChange: func(a, b, u int) {
			metrics.PendingPods.WithLabelValues("active").Set(float64(a))
			metrics.PendingPods.WithLabelValues("backoff").Set(float64(b))
			metrics.PendingPods.WithLabelValues("unschedulable").Set(float64(u))
		},
	})
	inf := NewInformers(factory, names)
	s := New(Options{
		ClientSet:           cs,
		Cache:               cache.New(),
		Queue:               q,
		Snapshot:            snapshot,
		Profiles:            profiles,
		Metrics:             metrics,
		Logger:              log,
		MaxInFlightBindings: int(comp.MaxInFlightBindings),
		Pending:             inf.PendingLister(),
	})
	s.AddEventHandlers(inf)
	return s, inf, nil
}
