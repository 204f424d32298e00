package client

import (
	"context"
	"math/rand/v2"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
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

// IsInvalid reports whether err says the object failed validation
// (Kubernetes' 422 Invalid).
func IsInvalid(err error) bool { return Reason(err) == ReasonInvalid }

// IsBadRequest reports whether err says the request itself is malformed:
// an unknown field or kind, a bad selector, option or token (Kubernetes'
// 400 BadRequest).
func IsBadRequest(err error) bool { return Reason(err) == ReasonBadRequest }

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

// Kubernetes' StatusReasons, as [Reason] returns them.
const (
	ReasonNotFound           = "NotFound"
	ReasonAlreadyExists      = "AlreadyExists"
	ReasonConflict           = "Conflict"
	ReasonInvalid            = "Invalid"
	ReasonBadRequest         = "BadRequest"
	ReasonForbidden          = "Forbidden"
	ReasonExpired            = "Expired"
	ReasonUnauthorized       = "Unauthorized"
	ReasonTimeout            = "Timeout"
	ReasonTooManyRequests    = "TooManyRequests"
	ReasonMethodNotAllowed   = "MethodNotAllowed"
	ReasonServiceUnavailable = "ServiceUnavailable"
	ReasonInternalError      = "InternalError"
)

// ErrorDomain is the domain of the google.rpc.ErrorInfo detail whose
// reason is the error's StatusReason.
const ErrorDomain = "gantry.dev"

// StatusError returns a gRPC status error of code and msg that carries
// reason (one of the Reason constants) as a google.rpc.ErrorInfo detail.
// Servers of the API (the apiserver, fakes) make their errors with it, so
// that reasons sharing a code (Invalid and BadRequest) stay apart.
func StatusError(code codes.Code, reason, msg string) error {
	st := status.New(code, msg)
	if d, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: ErrorDomain}); err == nil {
		st = d
	}
	return st.Err()
}

// Reason returns err's StatusReason: the one the server attached (see
// [StatusError]), or else the one its gRPC code stands for
// (InvalidArgument: BadRequest). It returns "" for nil and for errors
// that carry no gRPC status.
func Reason(err error) string {
	st, ok := status.FromError(err)
	if err == nil || !ok {
		return ""
	}
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == ErrorDomain && info.GetReason() != "" {
			return info.GetReason()
		}
	}
	switch st.Code() {
	case codes.NotFound:
		return ReasonNotFound
	case codes.AlreadyExists:
		return ReasonAlreadyExists
	case codes.Aborted:
		return ReasonConflict
	case codes.InvalidArgument:
		return ReasonBadRequest
	case codes.FailedPrecondition, codes.PermissionDenied:
		return ReasonForbidden
	case codes.OutOfRange:
		return ReasonExpired
	case codes.DeadlineExceeded:
		return ReasonTimeout
	case codes.Unauthenticated:
		return ReasonUnauthorized
	case codes.ResourceExhausted:
		return ReasonTooManyRequests
	case codes.Unimplemented:
		return ReasonMethodNotAllowed
	case codes.Unavailable:
		return ReasonServiceUnavailable
	}
	return ReasonInternalError
}

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
