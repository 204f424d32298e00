package registry

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Reason classifies a registry error, as Kubernetes' metav1.StatusReason does.
type Reason int

const (
	ReasonInternal Reason = iota
	ReasonNotFound
	ReasonAlreadyExists
	// ReasonConflict: a resourceVersion or uid precondition failed.
	ReasonConflict
	// ReasonInvalid: the object failed validation.
	ReasonInvalid
	// ReasonBadRequest: the request itself is malformed.
	ReasonBadRequest
	// ReasonForbidden: not allowed in the object's current state.
	ReasonForbidden
	// ReasonGone: a compacted resourceVersion.
	ReasonGone
)

// StatusError is an error with a Reason and Kubernetes' wording.
type StatusError struct {
	Reason  Reason
	Message string
}

func (e *StatusError) Error() string { return e.Message }

// ReasonOf returns the Reason of err, ReasonInternal for other errors.
func ReasonOf(err error) Reason {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Reason
	}
	return ReasonInternal
}

func errNotFound(resource, name string) error {
	return &StatusError{ReasonNotFound, fmt.Sprintf("%s %q not found", resource, name)}
}

func errAlreadyExists(resource, name string) error {
	return &StatusError{ReasonAlreadyExists, fmt.Sprintf("%s %q already exists", resource, name)}
}

func errConflict(resource, name, why string) error {
	return &StatusError{ReasonConflict, fmt.Sprintf("Operation cannot be fulfilled on %s %q: %s", resource, name, why)}
}

const staleObject = "the object has been modified; please apply your changes to the latest version and try again"

func errInvalid(kind, name string, errs field.ErrorList) error {
	return &StatusError{ReasonInvalid, fmt.Sprintf("%s %q is invalid: %s", kind, name, errs.ToAggregate().Error())}
}

func errBadRequest(format string, args ...any) error {
	return &StatusError{ReasonBadRequest, fmt.Sprintf(format, args...)}
}

func errForbidden(resource, name, why string) error {
	return &StatusError{ReasonForbidden, fmt.Sprintf("%s %q is forbidden: %s", resource, name, why)}
}

func errGone(why string) error {
	return &StatusError{ReasonGone, why}
}
