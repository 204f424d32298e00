// Package provider is the contract between the cloud-controller-manager and
// the infrastructure it runs on, in the shape of Kubernetes'
// k8s.io/cloud-provider: a provider [Interface] hands out optional
// capabilities — [Instances], [LoadBalancer], [Routes] — each reported as
// (capability, ok) so that a provider implements only what its
// infrastructure has.
//
// Providers are registered by name in a [Registry]; the command picks one
// with --cloud-provider. An out-of-tree provider builds its own binary:
//
//	cmd := app.NewCommand(app.WithProvider(provider.Registration{
//		Name: "mycloud",
//		New:  func(ctx context.Context, cfg provider.Config) (provider.Interface, error) { ... },
//	}))
//
// Every method takes a context first, may be called concurrently, and must
// not change its arguments (they are objects from the controllers' caches).
// Package provider/fake is an in-memory provider for tests.
package provider
