// Package defaultbinder is the DefaultBinder plugin: it binds through the
// apiserver's Bind, with the pod's uid as a precondition.
package defaultbinder
