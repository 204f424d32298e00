// Package queuesort is the PrioritySort plugin: higher priority first, then
// the pod that entered the queue first.
package queuesort
