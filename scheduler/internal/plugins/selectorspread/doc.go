// Package selectorspread is the SelectorSpread plugin: it spreads a
// workload's pods (pods with the same controller) across nodes, preferring
// nodes with fewer of them; and it honours topologySpreadConstraints over
// kubernetes.io/hostname with whenUnsatisfiable: DoNotSchedule at Filter.
package selectorspread
