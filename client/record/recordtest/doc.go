// Package recordtest has an event recorder for unit tests that keeps the
// events in memory instead of writing them to an apiserver.
package recordtest
