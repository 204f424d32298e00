// Package noderesources holds the NodeResourcesFit plugin (a pod's requests
// and the pod count against a node's allocatable; scores by least- or
// most-allocated) and NodeResourcesBalancedAllocation (prefers nodes whose
// CPU and memory use stay balanced).
package noderesources
