package informer

import (
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/client/workqueue"
)

// Lister reads an informer's cache. The objects it returns are shared with
// the cache and every other reader: proto.Clone one before changing it.
type Lister[T scheme.Object] struct {
	idx      *Indexer[T]
	resource string
}

// NewLister returns a lister over idx; resource names the objects in
// NotFound errors ("pods").
func NewLister[T scheme.Object](idx *Indexer[T], resource string) Lister[T] {
	return Lister[T]{idx: idx, resource: resource}
}

// Get returns the object namespace/name (namespace "" for cluster-scoped
// kinds), or an error for which client.IsNotFound is true.
func (l Lister[T]) Get(namespace, name string) (T, error) {
	o, ok := l.idx.Get(workqueue.Key(namespace, name))
	if !ok {
		var zero T
		return zero, status.Errorf(codes.NotFound, "%s %q not found", l.resource, name)
	}
	return o, nil
}

// List returns the objects of every namespace whose labels match selector
// (nil matches everything), in no particular order.
func (l Lister[T]) List(selector labels.Selector) []T {
	return filterLabels(l.idx.List(), selector)
}

// ListNamespace returns the objects of namespace whose labels match selector
// (nil matches everything), in no particular order.
func (l Lister[T]) ListNamespace(namespace string, selector labels.Selector) []T {
	objs, _ := l.idx.ByIndex(NamespaceIndex, namespace)
	return filterLabels(objs, selector)
}

// ByIndex returns the objects whose index function returned value.
func (l Lister[T]) ByIndex(index, value string) ([]T, error) {
	return l.idx.ByIndex(index, value)
}

func filterLabels[T scheme.Object](objs []T, selector labels.Selector) []T {
	if selector == nil || selector.Empty() {
		return objs
	}
	out := objs[:0]
	for _, o := range objs {
		if selector.Matches(labels.Set(o.GetMetadata().GetLabels())) {
			out = append(out, o)
		}
	}
	return out
}
