// Package service is the service controller: for every type: LoadBalancer
// service it has the provider ensure a load balancer in front of the
// service's node ports on the ready nodes, writes the load balancer's
// address to status.loadBalancer.ingress, and keeps the load balancer's node
// set current as nodes come, go, or change readiness. When the service is
// deleted or stops being type LoadBalancer it deletes the load balancer.
//
// A finalizer, service.kubernetes.io/load-balancer-cleanup, is added before
// any load balancer is made and removed only after the provider said the
// load balancer is gone, so a deleted service never leaks one (even if the
// controller was down when the service was deleted).
//
// The controller remembers what it last gave the provider for each service
// (the spec and the node set): an unchanged service is not sent again; a
// changed node set alone is sent with UpdateLoadBalancer; anything else with
// EnsureLoadBalancer. Every ResyncPeriod each load balancer is ensured again
// regardless, to repair one changed behind the controller's back.
package service
