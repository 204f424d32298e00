package queue

import (
	"context"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	"github.com/gantryhq/gantry/scheduler/framework"
)

// Defaults of Options.
const (
	DefaultInitialBackoff       = time.Second
	DefaultMaxBackoff           = 10 * time.Second
	DefaultMaxUnschedulableTime = 5 * time.Minute
	flushBackoffInterval        = 100 * time.Millisecond
	flushUnschedulableInterval  = 30 * time.Second
)

// Event is a change in the cluster that may make unschedulable pods
// schedulable.
type Event string

// The events that move unschedulable pods.
const (
	NodeAdd              Event = "NodeAdd"
	NodeChange           Event = "NodeChange"
	AssignedPodDelete    Event = "AssignedPodDelete"
	AssignedPodChange    Event = "AssignedPodChange"
	UnschedulableTimeout Event = "UnschedulableTimeout"
	ForceActivate        Event = "ForceActivate"
)

// Options tune a queue.
type Options struct {
	InitialBackoff       time.Duration
	MaxBackoff           time.Duration
	MaxUnschedulableTime time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnChange, if set, is called (without locks held) with the sizes of
	// the three sets after they change, for metrics.
	OnChange func(active, backoff, unschedulable int)
}

// Queue is the scheduling queue. It is safe for concurrent use.
type Queue struct {
	opts Options
	mu   sync.Mutex
	cond *sync.Cond

	active        *podHeap
	backoff       *podHeap
	unschedulable map[string]*framework.QueuedPodInfo
	// inFlight are the pods popped and not yet done, by key, with the
	// pod's latest state when it was updated during its cycle.
	inFlight map[string]*corev1.Pod

	// schedulingCycle counts Pops; moveRequestCycle is the cycle at which
	// pods were last moved, so a pod that failed in a cycle during which
	// the cluster changed goes to back-off, not unschedulable.
	schedulingCycle  int64
	moveRequestCycle int64

	// nominated maps node names to pods nominated to it by preemption.
	nominated   map[string][]*framework.PodInfo
	nominatedOf map[string]string // pod key -> node

	closed bool
}

// New returns a queue ordering active pods with less.
func New(less func(a, b *framework.QueuedPodInfo) bool, opts Options) *Queue {
	if opts.InitialBackoff == 0 {
		opts.InitialBackoff = DefaultInitialBackoff
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxUnschedulableTime == 0 {
		opts.MaxUnschedulableTime = DefaultMaxUnschedulableTime
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	q := &Queue{
		opts:          opts,
		active:        newPodHeap(less),
		unschedulable: map[string]*framework.QueuedPodInfo{},
		inFlight:      map[string]*corev1.Pod{},
		nominated:     map[string][]*framework.PodInfo{},
		nominatedOf:   map[string]string{},
	}
	q.backoff = newPodHeap(func(a, b *framework.QueuedPodInfo) bool {
		return q.backoffExpiry(a).Before(q.backoffExpiry(b))
	})
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Run flushes the back-off heap and old unschedulable pods until ctx ends,
// then closes the queue (Pop returns nil).
func (q *Queue) Run(ctx context.Context) {
	tb := time.NewTicker(flushBackoffInterval)
	tu := time.NewTicker(flushUnschedulableInterval)
	defer tb.Stop()
	defer tu.Stop()
	for {
		select {
		case <-ctx.Done():
			q.Close()
			return
		case <-tb.C:
			q.FlushBackoffCompleted()
		case <-tu.C:
			q.FlushUnschedulableLeftover()
		}
	}
}

// Close wakes Pop, which then returns nil.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

func (q *Queue) notify() {
	if q.opts.OnChange == nil {
		return
	}
	a, b, u := q.Len()
	q.opts.OnChange(a, b, u)
}

// Len returns the sizes of the active, back-off and unschedulable sets.
func (q *Queue) Len() (active, backoff, unschedulable int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active.Len(), q.backoff.Len(), len(q.unschedulable)
}

func (q *Queue) newQueuedPodInfo(pod *corev1.Pod) *framework.QueuedPodInfo {
	now := q.opts.Now()
	return &framework.QueuedPodInfo{PodInfo: framework.NewPodInfo(pod), Timestamp: now}
}

// Add adds a new pending pod to the active heap.
func (q *Queue) Add(pod *corev1.Pod) {
	p := q.newQueuedPodInfo(pod)
	q.mu.Lock()
	q.active.addOrUpdate(p)
	delete(q.unschedulable, p.Key)
	q.backoff.delete(p.Key)
	q.mu.Unlock()
	q.cond.Signal()
	q.notify()
}

// Update replaces a pending pod. A pod in the unschedulable set whose spec
// or labels changed is retried (through back-off if it is still backing
// off).
func (q *Queue) Update(oldPod, newPod *corev1.Pod) {
	key := newPod.GetMetadata().GetNamespace() + "/" + newPod.GetMetadata().GetName()
	q.mu.Lock()
	defer func() { q.mu.Unlock(); q.cond.Signal(); q.notify() }()
	if p, ok := q.active.get(key); ok {
		q.active.addOrUpdate(q.refresh(p, newPod))
		return
	}
	if p, ok := q.backoff.get(key); ok {
		q.backoff.addOrUpdate(q.refresh(p, newPod))
		return
	}
	if p, ok := q.unschedulable[key]; ok {
		p = q.refresh(p, newPod)
		if oldPod != nil && proto.Equal(oldPod.GetSpec(), newPod.GetSpec()) &&
			equalLabels(oldPod.GetMetadata().GetLabels(), newPod.GetMetadata().GetLabels()) {
			q.unschedulable[key] = p
			return
		}
		delete(q.unschedulable, key)
		if q.isBackingOff(p) {
			q.backoff.addOrUpdate(p)
		} else {
			q.active.addOrUpdate(p)
		}
		return
	}
	if _, ok := q.inFlight[key]; ok {
		q.inFlight[key] = newPod // the cycle in flight decides where it goes
		return
	}
	q.active.addOrUpdate(q.newQueuedPodInfo(newPod))
}

func equalLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func (q *Queue) refresh(p *framework.QueuedPodInfo, pod *corev1.Pod) *framework.QueuedPodInfo {
	c := *p
	c.PodInfo = framework.NewPodInfo(pod)
	return &c
}

// Delete removes a pod from the queue (deleted, or bound).
func (q *Queue) Delete(pod *corev1.Pod) {
	key := pod.GetMetadata().GetNamespace() + "/" + pod.GetMetadata().GetName()
	q.mu.Lock()
	q.active.delete(key)
	q.backoff.delete(key)
	delete(q.unschedulable, key)
	q.deleteNominatedLocked(key)
	if _, ok := q.inFlight[key]; ok {
		q.inFlight[key] = deletedPod
	}
	q.mu.Unlock()
	q.notify()
}

// deletedPod marks an in-flight pod deleted during its cycle.
var deletedPod = &corev1.Pod{}

// Pop blocks until a pod is active and returns it, or returns nil once the
// queue is closed. Call Done with the pod's key when its cycle is over.
func (q *Queue) Pop() *framework.QueuedPodInfo {
	q.mu.Lock()
	for q.active.Len() == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	p := q.active.pop()
	p.Attempts++
	if p.InitialAttemptTimestamp.IsZero() {
		p.InitialAttemptTimestamp = q.opts.Now()
	}
	q.schedulingCycle++
	q.inFlight[p.Key] = nil
	q.mu.Unlock()
	q.notify()
	return p
}

// SchedulingCycle is the number of Pops so far.
func (q *Queue) SchedulingCycle() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.schedulingCycle
}

// Done marks the end of a popped pod's cycle.
func (q *Queue) Done(key string) {
	q.mu.Lock()
	delete(q.inFlight, key)
	q.mu.Unlock()
}

// AddUnschedulable puts back a pod whose attempt in cycle failed: into
// back-off if the cluster changed since that cycle began or the failure was
// an error (backoff true), else into the unschedulable set.
func (q *Queue) AddUnschedulable(p *framework.QueuedPodInfo, cycle int64, backoff bool) {
	q.mu.Lock()
	if latest := q.inFlight[p.Key]; latest == deletedPod {
		delete(q.inFlight, p.Key)
		q.mu.Unlock()
		return
	} else if latest != nil {
		// Updated while it was being scheduled: retry with the new spec.
		p = q.refresh(p, latest)
		backoff = true
	}
	delete(q.inFlight, p.Key)
	if _, ok := q.active.get(p.Key); ok {
		q.mu.Unlock()
		return
	}
	if _, ok := q.backoff.get(p.Key); ok {
		q.mu.Unlock()
		return
	}
	p.Timestamp = q.opts.Now()
	if backoff || q.moveRequestCycle >= cycle {
		q.backoff.addOrUpdate(p)
	} else {
		q.unschedulable[p.Key] = p
	}
	q.mu.Unlock()
	q.notify()
}

func (q *Queue) backoffDuration(p *framework.QueuedPodInfo) time.Duration {
	d := q.opts.InitialBackoff
	for i := 1; i < p.Attempts; i++ {
		d *= 2
		if d >= q.opts.MaxBackoff {
			return q.opts.MaxBackoff
		}
	}
	return d
}

func (q *Queue) backoffExpiry(p *framework.QueuedPodInfo) time.Time {
	return p.Timestamp.Add(q.backoffDuration(p))
}

func (q *Queue) isBackingOff(p *framework.QueuedPodInfo) bool {
	return q.backoffExpiry(p).After(q.opts.Now())
}

// FlushBackoffCompleted moves pods whose back-off has expired to the active
// heap.
func (q *Queue) FlushBackoffCompleted() {
	q.mu.Lock()
	moved := false
	now := q.opts.Now()
	for {
		p := q.backoff.peek()
		if p == nil || q.backoffExpiry(p).After(now) {
			break
		}
		q.backoff.pop()
		q.active.addOrUpdate(p)
		moved = true
	}
	q.mu.Unlock()
	if moved {
		q.cond.Broadcast()
		q.notify()
	}
}

// FlushUnschedulableLeftover retries pods unschedulable for longer than
// MaxUnschedulableTime.
func (q *Queue) FlushUnschedulableLeftover() {
	q.mu.Lock()
	now := q.opts.Now()
	var old []*framework.QueuedPodInfo
	for _, p := range q.unschedulable {
		if now.Sub(p.Timestamp) > q.opts.MaxUnschedulableTime {
			old = append(old, p)
		}
	}
	q.movePodsLocked(old)
	q.mu.Unlock()
	q.cond.Broadcast()
	q.notify()
}

// MoveAllToActiveOrBackoff retries every unschedulable pod, after a cluster
// change that may help them.
func (q *Queue) MoveAllToActiveOrBackoff(ev Event) {
	q.mu.Lock()
	all := make([]*framework.QueuedPodInfo, 0, len(q.unschedulable))
	for _, p := range q.unschedulable {
		all = append(all, p)
	}
	q.movePodsLocked(all)
	q.moveRequestCycle = q.schedulingCycle
	q.mu.Unlock()
	q.cond.Broadcast()
	q.notify()
}

func (q *Queue) movePodsLocked(pods []*framework.QueuedPodInfo) {
	for _, p := range pods {
		delete(q.unschedulable, p.Key)
		if q.isBackingOff(p) {
			q.backoff.addOrUpdate(p)
		} else {
			q.active.addOrUpdate(p)
		}
	}
}

// Activate moves the named pods (keys) to the active heap at once, wherever
// they wait.
func (q *Queue) Activate(keys ...string) {
	q.mu.Lock()
	for _, k := range keys {
		if p, ok := q.unschedulable[k]; ok {
			delete(q.unschedulable, k)
			q.active.addOrUpdate(p)
		} else if p, ok := q.backoff.delete(k); ok {
			q.active.addOrUpdate(p)
		}
	}
	q.mu.Unlock()
	q.cond.Broadcast()
	q.notify()
}

// PendingPods returns every queued pod, for tests and debugging.
func (q *Queue) PendingPods() []*corev1.Pod {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []*corev1.Pod
	for _, p := range q.active.items {
		out = append(out, p.Pod)
	}
	for _, p := range q.backoff.items {
		out = append(out, p.Pod)
	}
	for _, p := range q.unschedulable {
		out = append(out, p.Pod)
	}
	return out
}

// AddNominatedPod records that p was nominated to node by preemption, so
// that other pods do not take the room made for it.
func (q *Queue) AddNominatedPod(p *framework.PodInfo, node string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.deleteNominatedLocked(p.Key)
	q.nominated[node] = append(q.nominated[node], p)
	q.nominatedOf[p.Key] = node
}

// DeleteNominatedPod forgets a pod's nomination.
func (q *Queue) DeleteNominatedPod(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.deleteNominatedLocked(key)
}

func (q *Queue) deleteNominatedLocked(key string) {
	node, ok := q.nominatedOf[key]
	if !ok {
		return
	}
	delete(q.nominatedOf, key)
	list := q.nominated[node]
	for i, p := range list {
		if p.Key == key {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(q.nominated, node)
	} else {
		q.nominated[node] = list
	}
}

// NominatedPodsForNode returns the pods nominated to node.
func (q *Queue) NominatedPodsForNode(node string) []*framework.PodInfo {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]*framework.PodInfo(nil), q.nominated[node]...)
}

// HasNominatedPods reports whether any pod is nominated anywhere.
func (q *Queue) HasNominatedPods() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.nominated) > 0
}
