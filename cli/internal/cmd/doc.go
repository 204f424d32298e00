// Package cmd holds the `gantry` command tree: kubectl's verbs (apply,
// create, get, describe, delete, scale, label, annotate, cordon, drain,
// events, version, config, completion) with kubectl's flags, output and
// exit codes, over the Gantry API.
package cmd
