// Package server is the kubelet's own gRPC service (gantry.kubelet.v1
// KubeletService): the logs of the node's containers and exec into them,
// for the apiserver to proxy. Its TLS requires a client certificate signed
// by the cluster CA whose subject is in an allowed group (or names an
// allowed user).
package server
