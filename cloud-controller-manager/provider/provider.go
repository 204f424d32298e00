package provider

import (
	"context"
	"errors"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Interface is a cloud provider. Capabilities the infrastructure lacks are
// reported with ok == false; the controllers that need them do not run.
type Interface interface {
	// ProviderName is the name the provider is registered under; it is
	// also the scheme of the node provider IDs it makes ("docker://n1").
	ProviderName() string
	// Instances reports on the machines that back nodes.
	Instances() (Instances, bool)
	// LoadBalancer manages load balancers for type: LoadBalancer services.
	LoadBalancer() (LoadBalancer, bool)
	// Routes manages routes for the nodes' pod CIDRs.
	Routes() (Routes, bool)
}

// ErrInstanceNotFound is returned by [Instances.InstanceMetadata] (and may be
// by InstanceShutdown) when no instance backs the node.
var ErrInstanceNotFound = errors.New("instance not found")

// Instances reports on the instances (machines, VMs, containers) that back
// nodes. The node passed in is read-only; it may carry a provider ID
// (spec.providerID) from an earlier initialization, or only its name.
type Instances interface {
	// InstanceExists says whether the instance behind node still exists. A
	// false answer without error makes the node lifecycle controller delete
	// the node, so a provider must only say false when it is sure.
	InstanceExists(ctx context.Context, node *corev1.Node) (bool, error)
	// InstanceShutdown says whether the instance exists but is shut down
	// (stopped, not deleted).
	InstanceShutdown(ctx context.Context, node *corev1.Node) (bool, error)
	// InstanceMetadata describes the instance, for initializing the node.
	// It fails with ErrInstanceNotFound (wrapped) when there is none.
	InstanceMetadata(ctx context.Context, node *corev1.Node) (*InstanceMetadata, error)
}

// InstanceMetadata is what a provider knows about a node's instance.
type InstanceMetadata struct {
	// ProviderID is "<provider>://<instance id>"; set on spec.providerID.
	ProviderID string
	// InstanceType becomes the node.kubernetes.io/instance-type label
	// (left alone when empty).
	InstanceType string
	// Addresses replace status.addresses when not empty.
	Addresses []*corev1.NodeAddress
	// Zone and Region become topology.kubernetes.io/zone and
	// topology.kubernetes.io/region (left alone when empty).
	Zone   string
	Region string
}

// LoadBalancer manages the load balancers of type: LoadBalancer services.
// The service and nodes passed in are read-only. Every method is idempotent:
// calling it again with the same arguments changes nothing more.
type LoadBalancer interface {
	// GetLoadBalancer returns the status of the service's load balancer and
	// whether it exists.
	GetLoadBalancer(ctx context.Context, clusterName string, svc *corev1.Service) (status *corev1.LoadBalancerStatus, exists bool, err error)
	// GetLoadBalancerName is the provider's name for the service's load
	// balancer; it must not change over the service's life.
	GetLoadBalancerName(ctx context.Context, clusterName string, svc *corev1.Service) string
	// EnsureLoadBalancer creates the load balancer, or brings an existing one
	// up to date, so that each service port forwards to the service's node
	// ports on nodes. It returns the status to write to the service
	// (status.loadBalancer).
	EnsureLoadBalancer(ctx context.Context, clusterName string, svc *corev1.Service, nodes []*corev1.Node) (*corev1.LoadBalancerStatus, error)
	// UpdateLoadBalancer changes only the set of nodes an existing load
	// balancer forwards to.
	UpdateLoadBalancer(ctx context.Context, clusterName string, svc *corev1.Service, nodes []*corev1.Node) error
	// EnsureLoadBalancerDeleted removes the load balancer if it exists; it
	// returns nil when there is nothing to remove.
	EnsureLoadBalancerDeleted(ctx context.Context, clusterName string, svc *corev1.Service) error
}

// Route sends a node's pod CIDR to that node.
type Route struct {
	// Name identifies the route at the provider (set by ListRoutes).
	Name string
	// TargetNode is the name of the node the traffic goes to.
	TargetNode string
	// DestinationCIDR is the node's pod CIDR.
	DestinationCIDR string
	// Blackhole routes lead nowhere (their node is gone); the route
	// controller deletes them.
	Blackhole bool
}

// Routes manages the routes of a cluster's pod CIDRs. Arguments are
// read-only.
type Routes interface {
	// ListRoutes lists the routes the cluster owns.
	ListRoutes(ctx context.Context, clusterName string) ([]*Route, error)
	// CreateRoute creates route; nameHint (the node's UID) may help the
	// provider name it. Creating a route that exists is not an error.
	CreateRoute(ctx context.Context, clusterName, nameHint string, route *Route) error
	// DeleteRoute deletes route; deleting a missing route is not an error.
	DeleteRoute(ctx context.Context, clusterName string, route *Route) error
}
