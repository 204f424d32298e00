package registry

import (
	"context"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Strategy is what a kind adds to the generic registry: its defaults and its
// validation. Objects passed in are the kind's message (for example
// *corev1.Pod) and may be changed only where the method says so. Field
// errors use Kubernetes' paths from the object's root ("spec.replicas",
// "spec.containers[0].image"), made with k8s.io/apimachinery's field package.
//
// Metadata (name, namespace, labels, annotations, ownerReferences,
// finalizers) is validated by the registry itself; a strategy validates the
// rest.
type Strategy interface {
	// PrepareForCreate clears what a client may not set on create (status
	// fields the server owns) and sets initial status (a pod's phase
	// Pending). It may change obj.
	PrepareForCreate(obj proto.Message)
	// Default fills unset fields with Kubernetes' defaults. It is called on
	// create and update (after PrepareForCreate / before ValidateUpdate). It
	// may change obj.
	Default(obj proto.Message)
	// Validate checks a new object.
	Validate(obj proto.Message) field.ErrorList
	// ValidateUpdate checks obj replacing old (spec and metadata; the status
	// is already copied from old): everything Validate checks, plus fields
	// that may not change. It must not change either argument.
	ValidateUpdate(obj, old proto.Message) field.ErrorList
	// ValidateStatusUpdate checks a status update; obj's spec and metadata
	// are already copied from old. It must not change either argument.
	ValidateStatusUpdate(obj, old proto.Message) field.ErrorList
}

// GracefulDeleter is implemented by kinds whose deletion may be deferred for
// a grace period (pods bound to a node).
type GracefulDeleter interface {
	// GracePeriod returns the grace period to delete obj with, given the
	// period the request asked for (nil: the object's own). ok false means
	// delete at once.
	GracePeriod(obj proto.Message, requested *int64) (seconds int64, ok bool)
}

// DeletionHolder is implemented by kinds that keep an object through
// deletion for reasons other than metadata.finalizers (a namespace's
// spec.finalizers).
type DeletionHolder interface {
	// PrepareForDelete is called when deletion starts; it may change obj (a
	// namespace's status.phase becomes Terminating).
	PrepareForDelete(obj proto.Message)
	// HoldsDeletion reports whether obj must stay stored although its
	// metadata.finalizers are empty.
	HoldsDeletion(obj proto.Message) bool
}

// UpdatePreparer is implemented by kinds whose Update carries over
// server-set values the client may leave out (a Service's allocated
// clusterIP, a namespace's spec.finalizers while it is active).
type UpdatePreparer interface {
	// PrepareForUpdate may change obj, copying from old; old must not be
	// changed. It runs before Default and ValidateUpdate.
	PrepareForUpdate(obj, old proto.Message)
}

// Allocator is implemented by kinds whose objects hold values handed out from
// a range shared by all objects of the kind (a Service's cluster IP and node
// ports). The registry reserves before it writes an object, undoes the
// reservation when the write fails, and releases what a successful write
// (or a delete) dropped.
type Allocator interface {
	// Allocate reserves what obj holds and old (nil on create) does not,
	// filling in unset values of obj (it may change obj, never old). A value
	// out of range or already taken is a field error, and then nothing is
	// reserved. On success, undo frees what this call reserved. A dry run
	// fills in values that are free now but reserves nothing.
	Allocate(ctx context.Context, obj, old proto.Message, dryRun bool) (undo func(), errs field.ErrorList, err error)
	// Release frees what old holds and obj (nil when old was deleted) does
	// not. It is idempotent.
	Release(ctx context.Context, obj, old proto.Message) error
}
