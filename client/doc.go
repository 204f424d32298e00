// Package client is Gantry's Go client: a connection to the apiserver's
// ResourceService ([New], [Clientset]), typed access to every kind with
// generics ([For], [Typed], and shortcuts such as [Clientset.Pods]), an
// untyped variant for tools that only know a [scheme.Resource]
// ([Clientset.Resource]), the non-CRUD verbs ([Clientset.Bind]), and helpers
// for the API's errors ([IsNotFound], [IsConflict], [Reason],
// [RetryOnConflict], ...).
//
// Sub-packages hold the rest of what a daemon needs: config (the kubeconfig
// file), informer (watch-backed caches), workqueue, leaderelection, record
// (events) and clienttest (an in-memory apiserver for unit tests).
//
//	cfg, err := config.Open(kubeconfigFlag, "")
//	cs, err := client.New(cfg)
//	defer cs.Close()
//	pod, err := cs.Pods("default").Get(ctx, "web-0")
//
// Objects returned by a client belong to the caller. Objects passed to a
// client are not changed by it.
package client
