package workqueue

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/client-go/util/workqueue"

	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// Interface is the rate-limited queue of string keys.
type Interface = workqueue.TypedRateLimitingInterface[string]

// New returns a rate-limited queue of keys with [DefaultRateLimiter]. name
// identifies the queue in client-go's metrics and logs.
func New(name string) Interface {
	return NewTyped[string](name)
}

// NewTyped is New for items of any comparable type.
func NewTyped[T comparable](name string) workqueue.TypedRateLimitingInterface[T] {
	return workqueue.NewTypedRateLimitingQueueWithConfig(DefaultRateLimiter[T](),
		workqueue.TypedRateLimitingQueueConfig[T]{Name: name})
}

// DefaultRateLimiter is client-go's controller default: per item, an
// exponential back-off from 5ms doubling up to 1000s; overall, a token
// bucket of 10 per second with bursts of 100. The slower of the two wins.
func DefaultRateLimiter[T comparable]() workqueue.TypedRateLimiter[T] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[T](DefaultBaseDelay, DefaultMaxDelay),
		&workqueue.TypedBucketRateLimiter[T]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
	)
}

// The per-item back-off bounds of DefaultRateLimiter.
const (
	DefaultBaseDelay = 5 * time.Millisecond
	DefaultMaxDelay  = 1000 * time.Second
)

// Object is anything with Gantry metadata: every kind's message.
type Object interface {
	GetMetadata() *metav1.ObjectMeta
}

// KeyOf is obj's key: "namespace/name", or "name" for a cluster-scoped
// object.
func KeyOf(obj Object) string {
	m := obj.GetMetadata()
	return Key(m.GetNamespace(), m.GetName())
}

// Key is the key of the object namespace/name ("name" when namespace is
// empty).
func Key(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// SplitKey splits a key made by KeyOf into its namespace ("" for a
// cluster-scoped object) and name.
func SplitKey(key string) (namespace, name string, err error) {
	parts := strings.Split(key, "/")
	switch {
	case len(parts) == 1 && parts[0] != "":
		return "", parts[0], nil
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
		return parts[0], parts[1], nil
	}
	return "", "", fmt.Errorf("unexpected key format: %q", key)
}
