// Package probe checks one health target (an HTTP URL, a TCP address or a
// file) for the dev cluster's container health checks. It uses only the
// standard library, so that the probe binary baked into every daemon image
// stays small.
package probe
