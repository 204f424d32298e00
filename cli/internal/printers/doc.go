// Package printers writes objects the way kubectl does: tables with
// kubectl's columns for every kind (NAME READY STATUS RESTARTS AGE for pods,
// ...), and the -o yaml|json|name formats. Tables take the clock as an
// option so that AGE columns can be tested with golden files.
package printers
