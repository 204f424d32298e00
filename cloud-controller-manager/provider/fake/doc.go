// Package fake is an in-memory cloud provider for tests: instances,
// load balancers and routes held in maps, every call recorded, and errors
// injected per method.
package fake
