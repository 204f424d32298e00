// Package route is the route controller: where the provider supports
// routes, it keeps one route per node pod CIDR (spec.podCIDRs, or
// spec.podCIDR) pointing at that node, deletes routes of nodes that are gone
// or whose CIDR changed, and sets each routed node's NetworkUnavailable
// condition to False (reason RouteCreated). It reconciles every
// ReconcilePeriod and whenever a node is added, deleted or changes CIDRs.
package route
