package informer

import (
	"fmt"
	"sync"

	"github.com/gantryhq/gantry/client/scheme"
	"github.com/gantryhq/gantry/client/workqueue"
)

// IndexFunc returns the index values of an object (none, one or several).
type IndexFunc[T scheme.Object] func(obj T) []string

// Indexers are index functions by index name.
type Indexers[T scheme.Object] map[string]IndexFunc[T]

// NamespaceIndex is the name of the built-in index by namespace.
const NamespaceIndex = "namespace"

// NamespaceIndexFunc indexes objects by their namespace.
func NamespaceIndexFunc[T scheme.Object](obj T) []string {
	return []string{obj.GetMetadata().GetNamespace()}
}

// Indexer is a thread-safe store of objects by key ("namespace/name") with
// secondary indices. The objects are shared: callers must not change them.
type Indexer[T scheme.Object] struct {
	mu       sync.RWMutex
	items    map[string]T
	indexers Indexers[T]
	// indices: index name -> index value -> set of keys.
	indices map[string]map[string]map[string]struct{}
}

// NewIndexer returns an empty indexer with the namespace index.
func NewIndexer[T scheme.Object]() *Indexer[T] {
	return &Indexer[T]{
		items:    map[string]T{},
		indexers: Indexers[T]{NamespaceIndex: NamespaceIndexFunc[T]},
		indices:  map[string]map[string]map[string]struct{}{NamespaceIndex: {}},
	}
}

// AddIndexers adds indices; existing objects are indexed at once. Adding an
// index name twice is an error.
func (x *Indexer[T]) AddIndexers(add Indexers[T]) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	for name := range add {
		if _, ok := x.indexers[name]; ok {
			return fmt.Errorf("indexer %q already exists", name)
		}
	}
	for name, fn := range add {
		x.indexers[name] = fn
		idx := map[string]map[string]struct{}{}
		x.indices[name] = idx
		for key, obj := range x.items {
			for _, v := range fn(obj) {
				addToIndex(idx, v, key)
			}
		}
	}
	return nil
}

// Get returns the object with key.
func (x *Indexer[T]) Get(key string) (T, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	o, ok := x.items[key]
	return o, ok
}

// List returns every object, in no particular order.
func (x *Indexer[T]) List() []T {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]T, 0, len(x.items))
	for _, o := range x.items {
		out = append(out, o)
	}
	return out
}

// ListKeys returns every key, in no particular order.
func (x *Indexer[T]) ListKeys() []string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]string, 0, len(x.items))
	for k := range x.items {
		out = append(out, k)
	}
	return out
}

// Len is the number of objects.
func (x *Indexer[T]) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.items)
}

// ByIndex returns the objects whose index function returned value.
func (x *Indexer[T]) ByIndex(index, value string) ([]T, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	idx, ok := x.indices[index]
	if !ok {
		return nil, fmt.Errorf("index %q does not exist", index)
	}
	keys := idx[value]
	out := make([]T, 0, len(keys))
	for k := range keys {
		out = append(out, x.items[k])
	}
	return out, nil
}

// IndexKeys returns the keys of the objects whose index function returned
// value.
func (x *Indexer[T]) IndexKeys(index, value string) ([]string, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	idx, ok := x.indices[index]
	if !ok {
		return nil, fmt.Errorf("index %q does not exist", index)
	}
	out := make([]string, 0, len(idx[value]))
	for k := range idx[value] {
		out = append(out, k)
	}
	return out, nil
}

// put stores obj under its key and returns what it replaced.
func (x *Indexer[T]) put(obj T) (old T, existed bool) {
	key := workqueue.KeyOf(obj)
	x.mu.Lock()
	defer x.mu.Unlock()
	old, existed = x.items[key]
	if existed {
		x.unindex(key, old)
	}
	x.items[key] = obj
	for name, fn := range x.indexers {
		for _, v := range fn(obj) {
			addToIndex(x.indices[name], v, key)
		}
	}
	return old, existed
}

// remove deletes the object with key and returns it.
func (x *Indexer[T]) remove(key string) (old T, existed bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	old, existed = x.items[key]
	if existed {
		x.unindex(key, old)
		delete(x.items, key)
	}
	return old, existed
}

func (x *Indexer[T]) unindex(key string, obj T) {
	for name, fn := range x.indexers {
		idx := x.indices[name]
		for _, v := range fn(obj) {
			if set := idx[v]; set != nil {
				delete(set, key)
				if len(set) == 0 {
					delete(idx, v)
				}
			}
		}
	}
}

func addToIndex(idx map[string]map[string]struct{}, value, key string) {
	set := idx[value]
	if set == nil {
		set = map[string]struct{}{}
		idx[value] = set
	}
	set[key] = struct{}{}
}
