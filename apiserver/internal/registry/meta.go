package registry

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/gantryhq/gantry/client/scheme"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

type fieldErrors = field.ErrorList

func fieldRequired(path string) field.ErrorList {
	return field.ErrorList{field.Required(field.NewPath(path), "")}
}

func fieldForbidden(path, why string) *field.Error {
	return field.Forbidden(field.NewPath(path), why)
}

// validateObjectMeta checks the metadata every kind shares; old is nil on
// create.
func validateObjectMeta(res *scheme.Resource, meta, old *metav1.ObjectMeta) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("metadata")
	if meta.Name == "" {
		if meta.GenerateName == "" {
			errs = append(errs, field.Required(p.Child("name"), "name or generateName is required"))
		}
	} else {
		for _, msg := range nameValidator(res)(meta.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), meta.Name, msg))
		}
	}
	if res.Namespaced {
		for _, msg := range validation.IsDNS1123Label(meta.Namespace) {
			errs = append(errs, field.Invalid(p.Child("namespace"), meta.Namespace, msg))
		}
	}
	errs = append(errs, metavalidation.ValidateLabels(meta.Labels, p.Child("labels"))...)
	errs = append(errs, apivalidation.ValidateAnnotations(meta.Annotations, p.Child("annotations"))...)
	controllers := 0
	for i, ref := range meta.OwnerReferences {
		rp := p.Child("ownerReferences").Index(i)
		if ref.ApiVersion == "" {
			errs = append(errs, field.Invalid(rp.Child("apiVersion"), ref.ApiVersion, "version must not be empty"))
		}
		if ref.Kind == "" {
			errs = append(errs, field.Invalid(rp.Child("kind"), ref.Kind, "kind must not be empty"))
		}
		if ref.Name == "" {
			errs = append(errs, field.Invalid(rp.Child("name"), ref.Name, "name must not be empty"))
		}
		if ref.Uid == "" {
			errs = append(errs, field.Invalid(rp.Child("uid"), ref.Uid, "uid must not be empty"))
		}
		if ref.GetController() {
			controllers++
		}
	}
	if controllers > 1 {
		errs = append(errs, field.Invalid(p.Child("ownerReferences"), controllers, "Only one reference can have Controller set to true"))
	}
	for i, f := range meta.Finalizers {
		fp := p.Child("finalizers").Index(i)
		if f == FinalizerOrphan || f == FinalizerForeground {
			continue
		}
		for _, msg := range validation.IsQualifiedName(f) {
			errs = append(errs, field.Invalid(fp, f, msg))
		}
	}
	if old != nil {
		if meta.Name != old.Name {
			errs = append(errs, field.Invalid(p.Child("name"), meta.Name, "field is immutable"))
		}
		if meta.Namespace != old.Namespace {
			errs = append(errs, field.Invalid(p.Child("namespace"), meta.Namespace, "field is immutable"))
		}
	}
	return errs
}

func nameValidator(res *scheme.Resource) func(string) []string {
	switch res.Name {
	case "namespaces":
		return validation.IsDNS1123Label
	case "services":
		return validation.IsDNS1035Label
	}
	return validation.IsDNS1123Subdomain
}

// checkUnknown refuses a message carrying fields this server does not know
// (sent by a client built from newer contracts), naming the first one.
func checkUnknown(m protoreflect.Message, path string) error {
	if len(m.GetUnknown()) > 0 {
		where := path
		if where == "" {
			where = "the object"
		}
		return errBadRequest("unknown field in %s (tag not in this server's %s)", where, m.Descriptor().FullName())
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		name := fd.JSONName()
		if path != "" {
			name = path + "." + name
		}
		switch {
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				err = checkUnknown(l.Get(i).Message(), fmt.Sprintf("%s[%d]", name, i))
			}
		case fd.IsMap() && fd.MapValue().Kind() == protoreflect.MessageKind:
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				err = checkUnknown(mv.Message(), fmt.Sprintf("%s[%s]", name, strings.TrimSpace(k.String())))
				return err == nil
			})
		case !fd.IsList() && !fd.IsMap() && fd.Kind() == protoreflect.MessageKind:
			err = checkUnknown(v.Message(), name)
		}
		return err == nil
	})
	return err
}
