package client

import (
	"context"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// IsNotFound reports whether err says the object (or its namespace) does not
// exist. It sees through wrapping, as do its siblings.
func IsNotFound(err error) bool { return code(err) == codes.NotFound }

// IsAlreadyExists reports whether err says a create found the name taken.
func IsAlreadyExists(err error) bool { return code(err) == codes.AlreadyExists }

// IsConflict reports whether err says a resourceVersion or uid precondition
// failed (Kubernetes' 409 Conflict): read the object again and retry.
func IsConflict(err error) bool { return code(err) == codes.Aborted }

// IsGone reports whether err says the revision a watch or list started from
// is compacted (Kubernetes' 410 Gone): list again.
func IsGone(err error) bool { return code(err) == codes.OutOfRange }

// IsInvalid reports whether err says the request or object is invalid.
func IsInvalid(err error) bool { return code(err) == codes.InvalidArgument }

// IsFailedPrecondition reports whether err says the operation is not allowed
// in the object's state (bind of a bound pod, create in a terminating
// namespace).
func IsFailedPrecondition(err error) bool { return code(err) == codes.FailedPrecondition }

// IsUnauthenticated reports whether the server did not accept the
// credentials.
func IsUnauthenticated(err error) bool { return code(err) == codes.Unauthenticated }

// IsForbidden reports whether the server refused the caller the operation.
func IsForbidden(err error) bool { return code(err) == codes.PermissionDenied }

// IsUnavailable reports whether the server could not be reached.
func IsUnavailable(err error) bool { return code(err) == codes.Unavailable }

func code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	return status.Code(err)
}

// RetryOnConflict runs fn until it returns something other than a conflict,
// at most 5 times, sleeping about 10ms between tries (client-go's
// DefaultRetry). fn should read the object afresh, change it and write it.
// It returns fn's last error, or ctx's if ctx ends first.
func RetryOnConflict(ctx context.Context, fn func() error) error {
	const steps = 5
	const delay = 10 * time.Millisecond
	var err error
	for i := range steps {
		if err = fn(); !IsConflict(err) {
			return err
		}
		if i == steps-1 {
			break
		}
		d := delay + time.Duration(rand.Int64N(int64(delay/10)))
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return err
}
