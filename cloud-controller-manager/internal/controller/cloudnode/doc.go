// Package cloudnode is the cloud node controller: it initializes nodes that
// registered with the node.cloudprovider.kubernetes.io/uninitialized taint
// (a kubelet run with --cloud-provider=external) from what the provider
// knows of their instance — spec.providerID, status.addresses, the
// node.kubernetes.io/instance-type, topology.kubernetes.io/zone and
// topology.kubernetes.io/region labels — and then removes the taint. It
// also keeps the addresses of initialized nodes current, every
// StatusUpdatePeriod.
package cloudnode
