package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/record"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
	"github.com/gantryhq/gantry/scheduler/internal/cache"
	"github.com/gantryhq/gantry/scheduler/internal/queue"
	"github.com/gantryhq/gantry/scheduler/internal/runtime"
)

// Sampling bounds, as kube-scheduler's.
const (
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
)

// ErrNoNodes is returned when the cluster has no nodes.
var ErrNoNodes = errors.New("no nodes available to schedule pods")

// PendingLister finds a pending pod in the informers' caches, to tell
// whether a failed pod should go back to the queue.
type PendingLister func(namespace, name string) (*corev1.Pod, bool)

// Options configure a Scheduler.
type Options struct {
	ClientSet *client.Clientset
	Cache     *cache.Cache
	Queue     *queue.Queue
	Snapshot  *cache.Snapshot
	// Profiles by schedulerName; each records its pods' events with its
	// own EventRecorder.
	Profiles map[string]*runtime.Framework
	Metrics  *Metrics
	Logger   *zap.Logger
	// MaxInFlightBindings bounds concurrent bindings (default 256).
	MaxInFlightBindings int
	// Pending looks up pending pods (nil: every failed pod is requeued).
	Pending PendingLister
}

// Scheduler is the scheduling loop.
type Scheduler struct {
	opts     Options
	log      *zap.Logger
	cache    *cache.Cache
	queue    *queue.Queue
	snapshot *cache.Snapshot
	metrics  *Metrics

	nextStartNodeIndex int
	// Buffers reused across cycles (the scheduling loop is one goroutine).
	feasibleBuf []*framework.NodeInfo
	rejectedBuf []*framework.Status
	bindSem     chan struct{}
	bindings    sync.WaitGroup
	// Scheduled counts successful bindings (for benchmarks and tests).
	Scheduled atomic.Int64
}

// New returns a scheduler; run it with Run.
func New(opts Options) *Scheduler {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.MaxInFlightBindings <= 0 {
		opts.MaxInFlightBindings = 256
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	return &Scheduler{
		opts:     opts,
		log:      opts.Logger,
		cache:    opts.Cache,
		queue:    opts.Queue,
		snapshot: opts.Snapshot,
		metrics:  opts.Metrics,
		bindSem:  make(chan struct{}, opts.MaxInFlightBindings),
	}
}

// Run schedules pods until ctx ends, then waits for bindings in flight.
func (s *Scheduler) Run(ctx context.Context) {
	go s.queue.Run(ctx)
	for ctx.Err() == nil {
		s.ScheduleOne(ctx)
	}
	s.bindings.Wait()
}

// ScheduleOne runs one scheduling cycle (it blocks until a pod is pending).
func (s *Scheduler) ScheduleOne(ctx context.Context) {
	qpi := s.queue.Pop()
	if qpi == nil {
		return
	}
	pod := qpi.Pod
	fwk, ok := s.opts.Profiles[pod.GetSpec().GetSchedulerName()]
	if !ok || pod.GetMetadata().GetDeletionTimestamp() != nil || pod.GetSpec().GetNodeName() != "" || s.cache.Contains(pod) {
		s.queue.Done(qpi.Key)
		return
	}
	start := time.Now()
	cycle := s.queue.SchedulingCycle()
	state := framework.NewCycleState()
	host, err := s.schedulePod(ctx, fwk, state, qpi.PodInfo)
	if err != nil {
		nominated := ""
		var fitErr *FitError
		result := resultError
		if errors.As(err, &fitErr) {
			result = resultUnschedulable
			qpi.UnschedulablePlugins = fitErr.UnschedulablePlugins()
			if fwk.HasPostFilterPlugins() && fitErr.PreFilterMsg == "" {
				r, st := fwk.RunPostFilterPlugins(ctx, state, qpi.PodInfo, fitErr.Statuses)
				if st.IsSuccess() && r != nil && r.NominatedNodeName != "" {
					nominated = r.NominatedNodeName
					s.queue.AddNominatedPod(qpi.PodInfo, nominated)
				} else if st != nil {
					fitErr.PostFilterMsg = st.Message()
				}
			}
		} else if errors.Is(err, ErrNoNodes) {
			result = resultUnschedulable
		}
		s.observe(fwk, result, start)
		s.handleFailure(ctx, fwk, qpi, err, result != resultError, nominated, cycle)
		return
	}

	// Assume: the pod counts against the node from now on.
	assumed := proto.Clone(pod).(*corev1.Pod)
	assumed.Spec.NodeName = host
	api := *qpi.PodInfo
	api.Pod = assumed
	assumedInfo := &api
	if err := s.cache.AssumePod(assumedInfo); err != nil {
		s.observe(fwk, resultError, start)
		s.handleFailure(ctx, fwk, qpi, err, false, "", cycle)
		return
	}
	if st := fwk.RunReservePlugins(ctx, state, assumedInfo, host); !st.IsSuccess() {
		s.undo(ctx, fwk, state, assumedInfo, host)
		s.observe(fwk, resultError, start)
		s.handleFailure(ctx, fwk, qpi, st.AsError(), st.IsRejected(), "", cycle)
		return
	}
	if st := fwk.RunPermitPlugins(ctx, state, assumedInfo, host); !st.IsSuccess() && !st.IsWait() {
		s.undo(ctx, fwk, state, assumedInfo, host)
		s.observe(fwk, resultError, start)
		s.handleFailure(ctx, fwk, qpi, st.AsError(), st.IsRejected(), "", cycle)
		return
	}
	s.queue.Done(qpi.Key)
	s.observe(fwk, resultScheduled, start)

	s.bindSem <- struct{}{}
	s.metrics.BindingsInFlight.Inc()
	s.bindings.Add(1)
	go func() {
		defer func() {
			<-s.bindSem
			s.metrics.BindingsInFlight.Dec()
			s.bindings.Done()
		}()
		s.bindingCycle(ctx, fwk, state, qpi, assumedInfo, host, cycle)
	}()
}

func (s *Scheduler) observe(fwk *runtime.Framework, result string, start time.Time) {
	s.metrics.ScheduleAttempts.WithLabelValues(result, fwk.ProfileName()).Inc()
	s.metrics.AttemptDuration.WithLabelValues(result, fwk.ProfileName()).Observe(time.Since(start).Seconds())
}

func (s *Scheduler) undo(ctx context.Context, fwk *runtime.Framework, state *framework.CycleState, p *framework.PodInfo, host string) {
	fwk.RunUnreservePlugins(ctx, state, p, host)
	if err := s.cache.ForgetPod(p.Pod); err != nil {
		s.log.Error("forget assumed pod", zap.String("pod", p.Key), zap.Error(err))
	}
}

func (s *Scheduler) bindingCycle(ctx context.Context, fwk *runtime.Framework, state *framework.CycleState, qpi *framework.QueuedPodInfo, p *framework.PodInfo, host string, cycle int64) {
	fail := func(st *framework.Status) {
		s.undo(ctx, fwk, state, p, host)
		// Room was given back: pods waiting for it may fit now.
		s.queue.MoveAllToActiveOrBackoff(queue.AssignedPodDelete)
		s.handleFailure(ctx, fwk, qpi, fmt.Errorf("binding rejected: %w", st.AsError()), false, "", cycle)
	}
	if st := fwk.WaitOnPermit(ctx, p); !st.IsSuccess() {
		fail(st)
		return
	}
	if st := fwk.RunPreBindPlugins(ctx, state, p, host); !st.IsSuccess() {
		fail(st)
		return
	}
	if st := fwk.RunBindPlugins(ctx, state, p, host); !st.IsSuccess() {
		fail(st)
		return
	}
	s.cache.FinishBinding(p.Pod)
	s.Scheduled.Add(1)
	if !qpi.InitialAttemptTimestamp.IsZero() {
		s.metrics.E2EDuration.WithLabelValues(fwk.ProfileName()).Observe(time.Since(qpi.InitialAttemptTimestamp).Seconds())
	}
	if r := fwk.EventRecorder(); r != nil {
		r.Eventf(qpi.Pod, record.Normal, "Scheduled", "Successfully assigned %s to %s", p.Key, host)
	}
	fwk.RunPostBindPlugins(ctx, state, p, host)
}

// handleFailure records the failure and puts the pod back in the queue:
// into the unschedulable set when it did not fit (unschedulable true),
// into back-off after an error.
func (s *Scheduler) handleFailure(ctx context.Context, fwk *runtime.Framework, qpi *framework.QueuedPodInfo, err error, unschedulable bool, nominated string, cycle int64) {
	reason := "Unschedulable"
	if !unschedulable {
		reason = "SchedulerError"
		s.log.Info("scheduling failed", zap.String("pod", qpi.Key), zap.Error(err))
	}
	requeue := true
	pod := qpi.Pod
	if s.opts.Pending != nil {
		cur, ok := s.opts.Pending(pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetName())
		if !ok || cur.GetMetadata().GetUid() != pod.GetMetadata().GetUid() {
			requeue = false
		} else {
			pod = cur
		}
	}
	if requeue {
		s.queue.AddUnschedulable(qpi, cycle, !unschedulable)
	} else {
		s.queue.Done(qpi.Key)
		return
	}
	msg := err.Error()
	if r := fwk.EventRecorder(); r != nil {
		r.Event(pod, record.Warning, "FailedScheduling", msg)
	}
	s.updatePodCondition(ctx, pod, reason, msg, nominated)
}

// updatePodCondition sets PodScheduled=False (and the nominated node) on
// the pod's status, asynchronously, if it changed.
func (s *Scheduler) updatePodCondition(ctx context.Context, pod *corev1.Pod, reason, msg, nominated string) {
	for _, c := range pod.GetStatus().GetConditions() {
		if c.GetType() == "PodScheduled" && c.GetStatus() == "False" && c.GetReason() == reason && c.GetMessage() == msg &&
			(nominated == "" || pod.GetStatus().GetNominatedNodeName() == nominated) {
			return
		}
	}
	if s.opts.ClientSet == nil {
		return
	}
	m := pod.GetMetadata()
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err := client.RetryOnConflict(ctx, func() error {
			cur, err := s.opts.ClientSet.Pods(m.GetNamespace()).Get(ctx, m.GetName())
			if err != nil {
				return err
			}
			if cur.GetMetadata().GetUid() != m.GetUid() || cur.GetSpec().GetNodeName() != "" {
				return nil
			}
			cur = proto.Clone(cur).(*corev1.Pod)
			if cur.Status == nil {
				cur.Status = &corev1.PodStatus{}
			}
			setCondition(cur.Status, &corev1.PodCondition{Type: "PodScheduled", Status: "False", Reason: reason, Message: msg})
			if nominated != "" {
				cur.Status.NominatedNodeName = nominated
			}
			_, err = s.opts.ClientSet.Pods(m.GetNamespace()).UpdateStatus(ctx, cur)
			return err
		})
		if err != nil && !client.IsNotFound(err) {
			s.log.Warn("update pod condition", zap.String("pod", m.GetNamespace()+"/"+m.GetName()), zap.Error(err))
		}
	}()
}

func setCondition(st *corev1.PodStatus, c *corev1.PodCondition) {
	now := timestamppb.Now()
	c.LastProbeTime = now
	for i, old := range st.Conditions {
		if old.GetType() == c.GetType() {
			c.LastTransitionTime = old.GetLastTransitionTime()
			if old.GetStatus() != c.GetStatus() {
				c.LastTransitionTime = now
			}
			st.Conditions[i] = c
			return
		}
	}
	c.LastTransitionTime = now
	st.Conditions = append(st.Conditions, c)
}

// schedulePod picks a node for pod, or returns a *FitError.
func (s *Scheduler) schedulePod(ctx context.Context, fwk *runtime.Framework, state *framework.CycleState, pod *framework.PodInfo) (string, error) {
	s.cache.UpdateSnapshot(s.snapshot)
	if s.snapshot.NumNodes() == 0 {
		return "", ErrNoNodes
	}
	feasible, statuses, err := s.findNodesThatFit(ctx, fwk, state, pod)
	if err != nil {
		return "", err
	}
	if len(feasible) == 0 {
		return "", &FitError{Pod: pod, NumAllNodes: s.snapshot.NumNodes(), Statuses: statuses}
	}
	if len(feasible) == 1 || !fwk.HasScorePlugins() {
		return feasible[0].Name(), nil
	}
	if st := fwk.RunPreScorePlugins(ctx, state, pod, feasible); !st.IsSuccess() {
		return "", st.AsError()
	}
	scores, st := fwk.RunScorePlugins(ctx, state, pod, feasible)
	if !st.IsSuccess() {
		return "", st.AsError()
	}
	return selectHost(feasible, scores), nil
}

// selectHost returns the node with the highest score, choosing among ties
// at random.
func selectHost(nodes []*framework.NodeInfo, scores []int64) string {
	best, ties := 0, 1
	for i := 1; i < len(nodes); i++ {
		switch {
		case scores[i] > scores[best]:
			best, ties = i, 1
		case scores[i] == scores[best]:
			ties++
			if rand.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return nodes[best].Name()
}

// NumFeasibleNodesToFind is how many feasible nodes to find before scoring
// (kube-scheduler's adaptive percentageOfNodesToScore).
func NumFeasibleNodesToFind(percentage int32, numAllNodes int) int {
	if numAllNodes < minFeasibleNodesToFind || percentage >= 100 {
		return numAllNodes
	}
	adaptive := percentage
	if adaptive <= 0 {
		adaptive = 50 - int32(numAllNodes/125)
		if adaptive < minFeasibleNodesPercentageToFind {
			adaptive = minFeasibleNodesPercentageToFind
		}
	}
	n := numAllNodes * int(adaptive) / 100
	if n < minFeasibleNodesToFind {
		return minFeasibleNodesToFind
	}
	return n
}

func (s *Scheduler) findNodesThatFit(ctx context.Context, fwk *runtime.Framework, state *framework.CycleState, pod *framework.PodInfo) ([]*framework.NodeInfo, framework.NodeToStatus, error) {
	all := s.snapshot.List()
	pre, st := fwk.RunPreFilterPlugins(ctx, state, pod)
	statuses := framework.NodeToStatus{}
	if !st.IsSuccess() {
		if !st.IsRejected() {
			return nil, nil, st.AsError()
		}
		for _, n := range all {
			statuses[n.Name()] = st
		}
		return nil, statuses, nil
	}
	nodes := all
	if pre != nil && pre.NodeNames != nil {
		nodes = make([]*framework.NodeInfo, 0, len(pre.NodeNames))
		for _, n := range all {
			if _, ok := pre.NodeNames[n.Name()]; ok {
				nodes = append(nodes, n)
			} else {
				statuses[n.Name()] = framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) didn't satisfy plugin(s) [PreFilter]")
			}
		}
	}
	n := len(nodes)
	if n == 0 {
		return nil, statuses, nil
	}
	toFind := NumFeasibleNodesToFind(fwk.PercentageOfNodesToScore(), n)
	if cap(s.feasibleBuf) < toFind {
		s.feasibleBuf = make([]*framework.NodeInfo, toFind)
	}
	if cap(s.rejectedBuf) < n {
		s.rejectedBuf = make([]*framework.Status, n)
	}
	feasible := s.feasibleBuf[:toFind]
	rejected := s.rejectedBuf[:n]
	var found, processed atomic.Int32
	start := s.nextStartNodeIndex % n
	checkNominated := s.queue.HasNominatedPods()
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fwk.Parallelizer().Until(fctx, n, func(i int) {
		idx := (start + i) % n
		node := nodes[idx]
		var st *framework.Status
		if checkNominated {
			st = s.filterWithNominated(fctx, fwk, state, pod, node)
		} else {
			st = fwk.RunFilterPlugins(fctx, state, pod, node)
		}
		processed.Add(1)
		if st.IsSuccess() {
			k := found.Add(1)
			if int(k) > toFind {
				cancel()
				found.Add(-1)
				return
			}
			feasible[k-1] = node
			return
		}
		rejected[idx] = st
	})
	s.nextStartNodeIndex = (start + int(processed.Load())) % n
	var errStatus *framework.Status
	for i, st := range rejected {
		if st != nil {
			rejected[i] = nil
			if st.Code() == framework.Error {
				errStatus = st
			}
			statuses[nodes[i].Name()] = st
		}
	}
	if errStatus != nil {
		return nil, nil, errStatus.AsError()
	}
	// The caller keeps the feasible nodes only until the next cycle.
	return feasible[:found.Load()], statuses, nil
}

// filterWithNominated filters as if the pods nominated to node with at
// least pod's priority were already on it, so room made by preemption is
// kept for them.
func (s *Scheduler) filterWithNominated(ctx context.Context, fwk *runtime.Framework, state *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	nominated := s.queue.NominatedPodsForNode(node.Name())
	var clone *framework.NodeInfo
	for _, np := range nominated {
		if np.Key == pod.Key || np.Priority() < pod.Priority() {
			continue
		}
		if clone == nil {
			clone = node.Clone()
		}
		clone.AddPod(np)
	}
	if clone == nil {
		return fwk.RunFilterPlugins(ctx, state, pod, node)
	}
	return fwk.RunFilterPlugins(ctx, state, pod, clone)
}
