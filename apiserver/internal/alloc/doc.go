// Package alloc hands out Services' cluster IPs and node ports, as
// Kubernetes' ipallocator and portallocator do, with every allocated value
// kept in etcd as a key of its own (/registry/ranges/serviceips/<ip>,
// /registry/ranges/servicenodeports/<port>) created only if absent. So no
// value is ever given out twice: not across apiserver restarts, not by two
// apiservers on one etcd. A key's value names the Service that holds it (its
// uid), and only that Service's release deletes it.
//
// ServiceStrategy wraps the Service strategy with the registry.Allocator
// hooks; the registry reserves before it writes a Service, undoes the
// reservation when the write fails and releases what a write dropped.
package alloc
