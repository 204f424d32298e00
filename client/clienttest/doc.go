// Package clienttest is an in-memory apiserver for unit tests: a
// ResourceService served over an in-process gRPC connection (bufconn), so a
// daemon's tests use a real [client.Clientset] and real informers without
// etcd.
//
//	cs, srv := clienttest.New(t, pod, node)   // seeded, cleaned up with t
//	... run the code under test with cs ...
//	srv.Actions()                             // what it wrote
//
// It keeps the contract of gantry.api.v1.ResourceService: resourceVersions
// are one global revision counter; Update keeps the stored status and
// UpdateStatus only changes it; resourceVersion and uid preconditions fail
// with Aborted; Delete honours finalizers and graceful deletion of bound
// pods; List pages are read at one revision; Watch replays history from a
// revision, turns selector transitions into ADDED/DELETED, and ends with
// OutOfRange once that revision is compacted ([Server.Compact]). Faults are
// injected with [Server.BreakWatches] and [Server.AddReactor].
//
// It does not default or validate objects beyond names and namespaces, does
// not require namespaces to exist, runs no garbage collection (propagation
// policies are recorded, not acted on) and does not authenticate: the bearer
// token of each call is only recorded in its [Action]. The integration
// suites use the real apiserver for those.
package clienttest
