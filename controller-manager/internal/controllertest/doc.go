// Package controllertest runs controllers' syncs in unit tests: the
// in-memory clienttest server behind real shared informers, a recording
// event recorder, a settable clock, the writes a sync made as short
// strings, and builders for fixtures.
package controllertest
