// Package server is the gRPC face of the apiserver: a thin adapter from
// gantry.api.v1.ResourceService onto the registry, turning registry errors
// into gRPC codes at this one boundary.
package server
