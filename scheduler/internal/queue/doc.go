// Package queue is the scheduling queue: an active heap ordered by the
// QueueSort plugin, a back-off heap (1s doubling to 10s per attempt) and a
// set of unschedulable pods that move back when the cluster changes in a
// way that could help them (or after five minutes).
package queue
