package scheme

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	coordinationv1 "github.com/gantryhq/gantry/proto/gantry/coordination/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Resource describes one kind and the resource it is served as.
type Resource struct {
	// Group is the API group; "" for core.
	Group string
	// Version is the API version within the group ("v1").
	Version string
	// Kind is the kind as manifests spell it ("Deployment").
	Kind string
	// Name is the lowercase plural resource name ("deployments").
	Name string
	// Singular is the lowercase singular name ("deployment").
	Singular string
	// ShortNames are kubectl's abbreviations ("deploy").
	ShortNames []string
	// Namespaced is false for cluster-scoped kinds (Namespace, Node).
	Namespaced bool
	// HasStatus is true when the kind has a status that only UpdateStatus
	// may change.
	HasStatus bool

	message proto.Message
}

// APIVersion is the apiVersion manifests carry: "v1" or "apps/v1".
func (r *Resource) APIVersion() string {
	if r.Group == "" {
		return r.Version
	}
	return r.Group + "/" + r.Version
}

// GroupResource is the resource qualified by its group as kubectl prints it:
// "pods", "deployments.apps".
func (r *Resource) GroupResource() string {
	if r.Group == "" {
		return r.Name
	}
	return r.Name + "." + r.Group
}

// GroupKind is the kind qualified by its group as kubectl prints it in
// `apply` output: "pod", "deployment.apps".
func (r *Resource) GroupKind() string {
	if r.Group == "" {
		return strings.ToLower(r.Kind)
	}
	return strings.ToLower(r.Kind) + "." + r.Group
}

// New returns a new empty message of the kind.
func (r *Resource) New() proto.Message { return r.message.ProtoReflect().New().Interface() }

// MessageName is the full protobuf name of the kind's message.
func (r *Resource) MessageName() protoreflect.FullName {
	return r.message.ProtoReflect().Descriptor().FullName()
}

var (
	all       []*Resource
	byName    = map[string]*Resource{}
	byKind    = map[string]*Resource{} // apiVersion + "/" + kind
	byMessage = map[protoreflect.FullName]*Resource{}
	aliases   = map[string]*Resource{}
)

func register(r *Resource) {
	all = append(all, r)
	byName[r.Name] = r
	byKind[r.APIVersion()+"/"+r.Kind] = r
	byMessage[r.MessageName()] = r
	for _, a := range append([]string{r.Name, r.Singular, strings.ToLower(r.Kind), r.GroupResource()}, r.ShortNames...) {
		aliases[a] = r
	}
}

func init() {
	register(&Resource{Version: "v1", Kind: "Namespace", Name: "namespaces", Singular: "namespace", ShortNames: []string{"ns"}, HasStatus: true, message: &corev1.Namespace{}})
	register(&Resource{Version: "v1", Kind: "Pod", Name: "pods", Singular: "pod", ShortNames: []string{"po"}, Namespaced: true, HasStatus: true, message: &corev1.Pod{}})
	register(&Resource{Version: "v1", Kind: "Node", Name: "nodes", Singular: "node", ShortNames: []string{"no"}, HasStatus: true, message: &corev1.Node{}})
	register(&Resource{Version: "v1", Kind: "Service", Name: "services", Singular: "service", ShortNames: []string{"svc"}, Namespaced: true, HasStatus: true, message: &corev1.Service{}})
	register(&Resource{Version: "v1", Kind: "Endpoints", Name: "endpoints", Singular: "endpoints", ShortNames: []string{"ep"}, Namespaced: true, message: &corev1.Endpoints{}})
	register(&Resource{Version: "v1", Kind: "Event", Name: "events", Singular: "event", ShortNames: []string{"ev"}, Namespaced: true, message: &corev1.Event{}})
	register(&Resource{Group: "apps", Version: "v1", Kind: "ReplicaSet", Name: "replicasets", Singular: "replicaset", ShortNames: []string{"rs"}, Namespaced: true, HasStatus: true, message: &appsv1.ReplicaSet{}})
	register(&Resource{Group: "apps", Version: "v1", Kind: "Deployment", Name: "deployments", Singular: "deployment", ShortNames: []string{"deploy"}, Namespaced: true, HasStatus: true, message: &appsv1.Deployment{}})
	register(&Resource{Group: "batch", Version: "v1", Kind: "Job", Name: "jobs", Singular: "job", Namespaced: true, HasStatus: true, message: &batchv1.Job{}})
	register(&Resource{Group: "batch", Version: "v1", Kind: "CronJob", Name: "cronjobs", Singular: "cronjob", ShortNames: []string{"cj"}, Namespaced: true, HasStatus: true, message: &batchv1.CronJob{}})
	register(&Resource{Group: "coordination.k8s.io", Version: "v1", Kind: "Lease", Name: "leases", Singular: "lease", Namespaced: true, message: &coordinationv1.Lease{}})
}

// All returns every resource, in registration order. The slice must not be
// changed.
func All() []*Resource { return all }

// ByName finds a resource by its plural name ("pods").
func ByName(name string) (*Resource, bool) {
	r, ok := byName[name]
	return r, ok
}

// ByKind finds a resource by apiVersion and kind, as manifests name them.
func ByKind(apiVersion, kind string) (*Resource, bool) {
	r, ok := byKind[apiVersion+"/"+kind]
	return r, ok
}

// ForMessage finds the resource of a kind's message.
func ForMessage(m proto.Message) (*Resource, bool) {
	r, ok := byMessage[m.ProtoReflect().Descriptor().FullName()]
	return r, ok
}

// ForMessageName finds the resource of a kind's message by its full name.
func ForMessageName(name protoreflect.FullName) (*Resource, bool) {
	r, ok := byMessage[name]
	return r, ok
}

// Lookup finds a resource by any name a user may type: plural, singular,
// kind, short name, or group-qualified ("deployments.apps"), case-insensitive.
func Lookup(name string) (*Resource, error) {
	if r, ok := aliases[strings.ToLower(name)]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("the server doesn't have a resource type %q", name)
}

// Names lists every plural resource name, sorted.
func Names() []string {
	out := make([]string, 0, len(all))
	for _, r := range all {
		out = append(out, r.Name)
	}
	sort.Strings(out)
	return out
}

// Object is what every kind's message has: metadata.
type Object interface {
	proto.Message
	GetMetadata() *metav1.ObjectMeta
}

// Meta returns the metadata of a kind's message, creating it when nil so the
// caller may set fields. It panics if m has no metadata field, which only a
// programming error can cause.
func Meta(m proto.Message) *metav1.ObjectMeta {
	rm := m.ProtoReflect()
	fd := rm.Descriptor().Fields().ByName("metadata")
	if fd == nil {
		panic(fmt.Sprintf("scheme: %s has no metadata", rm.Descriptor().FullName()))
	}
	return rm.Mutable(fd).Message().Interface().(*metav1.ObjectMeta)
}
