package recordtest

import (
	"fmt"
	"sync"

	"github.com/gantryhq/gantry/client/record"
	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/client/workqueue"
)

// Recorder keeps events as strings "<type> <reason> <message>". It is safe
// for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []string
	// Objects are the keys ("namespace/name") of the objects, in the order
	// of the events.
	objects []string
}

var _ record.EventRecorder = (*Recorder)(nil)

// Event implements record.EventRecorder.
func (r *Recorder) Event(obj scheme.Object, eventType, reason, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, eventType+" "+reason+" "+message)
	r.objects = append(r.objects, workqueue.KeyOf(obj))
}

// Eventf implements record.EventRecorder.
func (r *Recorder) Eventf(obj scheme.Object, eventType, reason, messageFmt string, args ...any) {
	r.Event(obj, eventType, reason, fmt.Sprintf(messageFmt, args...))
}

// Events returns the events recorded so far.
func (r *Recorder) Events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// Objects returns the keys of the objects of the events recorded so far.
func (r *Recorder) Objects() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.objects...)
}
