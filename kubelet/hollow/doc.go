// Package hollow runs hollow nodes: kubelets over the fake runtime (no
// containers; a pod bound to the node goes Running at once), many to a
// process, for tests and benchmarks of the other daemons that need nodes
// that register, heartbeat and run pods.
//
//	n, err := hollow.Start(ctx, cs, "node-1", hollow.Options{})
//	defer n.Stop()
package hollow
