// Package lb is the load balancer the docker provider runs, one container
// per LoadBalancer service (image gantry/lb, built FROM scratch by
// hack/images/lb/build.sh): a TCP forwarder that listens on each service
// port and forwards every connection to one of the backends (the service's
// node port on each ready node), round robin, trying the next backend when
// one refuses.
//
// Its configuration is a JSON file ([Config]) that the provider writes into
// the container; the forwarder reads it at start, again on SIGHUP (which
// the provider sends after writing) and, as a fallback, whenever the file
// changes (polled every second). New ports open listeners, removed ones
// close theirs; connections in flight are left alone.
package lb
