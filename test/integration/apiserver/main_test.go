// Package apiserver holds integration tests of the apiserver: a real server
// on an embedded etcd, driven through the client library.
package apiserver
