// Package app is the cloud-controller-manager command: options and flags
// (Validate), the config they make (Complete) and Run. Out-of-tree
// providers build their own binary on it:
//
//	cmd := app.NewCommand(app.WithProvider(myprovider.Registration()))
//	cmd.ExecuteContext(daemon.SignalContext())
//
// The built-in providers are "fake" (an in-memory provider, for trying the
// controllers out) and "docker" (the dev cluster's nodes are containers;
// load balancers become containers too).
package app
