// Package storage is the apiserver's narrow interface to etcd: reads and
// optimistic writes of protobuf-encoded objects under /registry, each
// carrying the etcd revision it was read or written at, and watches from a
// revision. Only the apiserver opens etcd, and only through this package.
package storage
