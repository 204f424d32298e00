package strategy

import (
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Event is the strategy of core/v1 events.
type Event struct{}

// PrepareForCreate does nothing.
func (Event) PrepareForCreate(proto.Message) {}

// Default sets count 1 and type Normal.
func (Event) Default(obj proto.Message) {
	ev := obj.(*corev1.Event)
	if ev.Count == 0 {
		ev.Count = 1
	}
	if ev.Type == "" {
		ev.Type = "Normal"
	}
}

// Validate checks the involved object, that the event lives in its
// namespace, the type, and — for events with an eventTime (the newer
// recorders) — the reporting fields (Kubernetes' legacyValidateEvent).
func (Event) Validate(obj proto.Message) field.ErrorList {
	ev := obj.(*corev1.Event)
	var errs field.ErrorList
	ns := ev.GetMetadata().GetNamespace()
	io := ev.GetInvolvedObject()
	iop := field.NewPath("involvedObject")
	if io == nil {
		errs = append(errs, field.Required(iop, ""))
	} else {
		if io.Kind == "" {
			errs = append(errs, field.Required(iop.Child("kind"), ""))
		}
		if io.Name == "" {
			errs = append(errs, field.Required(iop.Child("name"), ""))
		}
	}
	if ev.EventTime == nil {
		if io.GetNamespace() == "" {
			if ns != "" && ns != "default" {
				errs = append(errs, field.Invalid(iop.Child("namespace"), io.GetNamespace(), "does not match event.namespace"))
			}
		} else if ns != io.GetNamespace() {
			errs = append(errs, field.Invalid(iop.Child("namespace"), io.GetNamespace(), "does not match event.namespace"))
		}
	} else {
		if io.GetNamespace() == "" && ns != "default" && ns != "kube-system" {
			errs = append(errs, field.Invalid(iop.Child("namespace"), io.GetNamespace(), "does not match event.namespace"))
		}
		rc := field.NewPath("reportingComponent")
		if ev.ReportingComponent == "" {
			errs = append(errs, field.Required(rc, ""))
		} else {
			errs = append(errs, qualifiedName(ev.ReportingComponent, rc)...)
		}
		errs = append(errs, requiredMax(ev.ReportingInstance, 128, field.NewPath("reportingInstance"))...)
		errs = append(errs, requiredMax(ev.Action, 128, field.NewPath("action"))...)
		errs = append(errs, requiredMax(ev.Reason, 128, field.NewPath("reason"))...)
		if len(ev.Message) > 1024 {
			errs = append(errs, field.TooLong(field.NewPath("message"), "", 1024))
		}
	}
	errs = append(errs, oneOf(ev.Type, field.NewPath("type"), "Normal", "Warning")...)
	errs = append(errs, nonNegative(int64(ev.Count), field.NewPath("count"))...)
	return errs
}

func requiredMax(v string, max int, p *field.Path) field.ErrorList {
	if v == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	if len(v) > max {
		return field.ErrorList{field.TooLong(p, "", max)}
	}
	return nil
}

// ValidateUpdate checks the new event; events may be rewritten (recorders
// bump count and lastTimestamp).
func (e Event) ValidateUpdate(obj, _ proto.Message) field.ErrorList { return e.Validate(obj) }

// ValidateStatusUpdate accepts anything: events have no status.
func (Event) ValidateStatusUpdate(_, _ proto.Message) field.ErrorList { return nil }
