package strategy

import (
	"strings"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/validation/field"

	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
)

// Lease is the strategy of leases. Leases have no status; holders write the
// spec.
type Lease struct{}

// PrepareForCreate does nothing.
func (Lease) PrepareForCreate(proto.Message) {}

// Default does nothing.
func (Lease) Default(proto.Message) {}

// Validate checks the durations and the coordinated-election fields.
func (Lease) Validate(obj proto.Message) field.ErrorList {
	spec := obj.(*coordinationv1.Lease).GetSpec()
	var errs field.ErrorList
	if v := spec.LeaseDurationSeconds; v != nil && *v <= 0 {
		errs = append(errs, field.Invalid(specPath.Child("leaseDurationSeconds"), *v, "must be greater than 0"))
	}
	if v := spec.LeaseTransitions; v != nil && *v < 0 {
		errs = append(errs, field.Invalid(specPath.Child("leaseTransitions"), *v, msgNegative))
	}
	if s := spec.GetStrategy(); s != "" && s != "OldestEmulationVersion" {
		sp := specPath.Child("strategy")
		if e := qualifiedName(s, sp); e != nil {
			errs = append(errs, e...)
		} else if !strings.Contains(s, "/") {
			errs = append(errs, field.Invalid(sp, s, "must be a domain-prefixed path (such as \"acme.io/foo\")"))
		}
	}
	if spec.GetPreferredHolder() != "" && spec.GetStrategy() == "" {
		errs = append(errs, field.Forbidden(specPath.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}

// ValidateUpdate checks the new lease; every field may change.
func (l Lease) ValidateUpdate(obj, _ proto.Message) field.ErrorList { return l.Validate(obj) }

// ValidateStatusUpdate accepts anything: leases have no status.
func (Lease) ValidateStatusUpdate(_, _ proto.Message) field.ErrorList { return nil }
