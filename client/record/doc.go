// Package record records core/v1 Events about objects, in the spirit of
// client-go's record package, simplified.
//
// [Recorder.Eventf] never blocks: it captures a reference to the object and
// the formatted message, and puts them on a bounded queue (dropping the
// event, and counting the drop, when the queue is full). [Recorder.Run]
// writes them to the apiserver. Repeats of one event — same involved object,
// type, reason, message and source — within AggregationWindow (10 minutes)
// do not create new objects: the existing Event's count goes up and its
// lastTimestamp moves, through Update.
//
//	rec := record.New(cs, record.Options{Component: "scheduler", Host: hostname})
//	go rec.Run(ctx)
//	rec.Eventf(pod, record.Normal, "Scheduled", "Successfully assigned %s to %s", key, node)
//
// Package recordtest has a recorder for unit tests.
package record
