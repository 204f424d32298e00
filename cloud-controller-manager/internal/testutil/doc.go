// Package testutil holds fixtures for the controllers' tests: builders of
// nodes and services, and a poll-until helper.
package testutil
