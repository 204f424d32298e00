// Package runtime runs one profile's plugins: it builds them from the
// registry and the profile's configuration, and runs each extension point
// in order, recording which plugin rejected a pod. It is also the
// framework.Handle the plugins see.
package runtime
