// Package scheme is the table of Gantry's kinds: for each, its API group and
// version, kind, resource name, scope and Go message type. The apiserver uses
// it to route requests and pick storage keys; the codec uses it to turn
// apiVersion/kind into a message; the CLI uses it for names and short names.
package scheme
