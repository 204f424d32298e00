package auth

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gantryhq/gantry/client/scheme"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Attributes describe what a request asks to do, in Kubernetes' terms.
type Attributes struct {
	// Verb is get, list, watch, create, update, delete, or for other RPCs
	// the lowercased method name.
	Verb string
	// APIGroup is the resource's API group ("" for core, "apps").
	APIGroup string
	// Resource is the plural resource name ("pods"); empty for RPCs that do
	// not act on a resource (Version).
	Resource string
	// Subresource is "status" for UpdateStatus, "binding" for Bind, "log"
	// and "exec" for Logs and Exec; empty otherwise.
	Subresource string
	// Namespace the request acts in; empty for cluster-scoped resources and
	// for requests across all namespaces.
	Namespace string
	// Name of the object; empty for list, watch and create without a name.
	Name string
	// FullMethod is the gRPC method ("/gantry.api.v1.ResourceService/Get").
	FullMethod string
}

func (a Attributes) String() string {
	var b strings.Builder
	b.WriteString(a.Verb)
	if a.Resource == "" {
		fmt.Fprintf(&b, " %s", a.FullMethod)
		return b.String()
	}
	b.WriteString(" resource ")
	b.WriteString(a.Resource)
	if a.Subresource != "" {
		b.WriteString("/" + a.Subresource)
	}
	if a.APIGroup != "" {
		fmt.Fprintf(&b, " in API group %q", a.APIGroup)
	}
	if a.Name != "" {
		fmt.Fprintf(&b, " %q", a.Name)
	}
	if a.Namespace != "" {
		fmt.Fprintf(&b, " in the namespace %q", a.Namespace)
	}
	return b.String()
}

// Authorizer decides whether a user may do what a request asks.
//
// Authorize returns nil to allow and an error saying why to deny. An error
// that is a gRPC status is returned to the client as it is; any other is
// returned as codes.PermissionDenied. user is never nil and must not be
// changed.
type Authorizer interface {
	Authorize(ctx context.Context, user *User, attrs Attributes) error
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, user *User, attrs Attributes) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, user *User, attrs Attributes) error {
	return f(ctx, user, attrs)
}

// AlwaysAllow allows every authenticated request.
type AlwaysAllow struct{}

var _ Authorizer = AlwaysAllow{}

// Authorize implements Authorizer.
func (AlwaysAllow) Authorize(context.Context, *User, Attributes) error { return nil }

// methodAttributes maps gRPC method names to verbs, and for the verbs that
// are subresources in Kubernetes, to the resource and subresource.
var methodAttributes = map[string]Attributes{
	"Create":       {Verb: "create"},
	"Get":          {Verb: "get"},
	"List":         {Verb: "list"},
	"Watch":        {Verb: "watch"},
	"Update":       {Verb: "update"},
	"UpdateStatus": {Verb: "update", Subresource: "status"},
	"Delete":       {Verb: "delete"},
	"Bind":         {Verb: "create", Resource: "pods", Subresource: "binding"},
	"Logs":         {Verb: "get", Resource: "pods", Subresource: "log"},
	"Exec":         {Verb: "create", Resource: "pods", Subresource: "exec"},
	"Version":      {Verb: "get"},
}

// RequestAttributes derives the attributes of a request from its full
// method name and, when req is not nil, from the request message: the verb
// from the method (table above; otherwise the lowercased method name), the
// resource from GetResource() string, the namespace and name from
// GetNamespace() and GetName(), and for requests that carry an object
// (GetObject() *anypb.Any, as Create and Update do) the resource from the
// object's type and the namespace and name from its metadata. A namespaced
// object without a namespace is in "default", as the registry stores it.
func RequestAttributes(fullMethod string, req any) Attributes {
	method := fullMethod[strings.LastIndexByte(fullMethod, '/')+1:]
	a, ok := methodAttributes[method]
	if !ok {
		a.Verb = strings.ToLower(method)
	}
	a.FullMethod = fullMethod

	if r, ok := req.(interface{ GetResource() string }); ok && a.Resource == "" {
		a.Resource = r.GetResource()
	}
	if r, ok := req.(interface{ GetNamespace() string }); ok {
		a.Namespace = r.GetNamespace()
	}
	if r, ok := req.(interface{ GetName() string }); ok {
		a.Name = r.GetName()
	}
	if r, ok := req.(interface{ GetObject() *anypb.Any }); ok && r.GetObject() != nil {
		objectAttributes(&a, r.GetObject())
	}
	if res, ok := scheme.ByName(a.Resource); ok {
		a.APIGroup = res.Group
	}
	return a
}

// objectAttributes fills a from an object's type and metadata without
// decoding the rest of it.
func objectAttributes(a *Attributes, obj *anypb.Any) {
	url := obj.GetTypeUrl()
	res, ok := scheme.ForMessageName(protoreflect.FullName(url[strings.LastIndexByte(url, '/')+1:]))
	if !ok {
		return
	}
	if a.Resource == "" {
		a.Resource = res.Name
	}
	fd := res.New().ProtoReflect().Descriptor().Fields().ByName("metadata")
	if fd == nil {
		return
	}
	meta := &metav1.ObjectMeta{}
	b := obj.GetValue()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		if num == fd.Number() && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return
			}
			// Repeated occurrences of a message field merge, as in a full decode.
			if err := (proto.UnmarshalOptions{Merge: true}).Unmarshal(v, meta); err != nil {
				return
			}
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return
		}
		b = b[n:]
	}
	a.Namespace, a.Name = meta.GetNamespace(), meta.GetName()
	if res.Namespaced && a.Namespace == "" {
		a.Namespace = "default"
	}
	if !res.Namespaced {
		a.Namespace = ""
	}
}
