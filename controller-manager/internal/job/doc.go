// Package job is the Job controller (non-indexed completion mode): it runs
// up to parallelism pods until completions succeed, replaces failed pods
// after a back-off (10 s doubling to 6 min by default), fails the job past
// backoffLimit (BackoffLimitExceeded) or activeDeadlineSeconds
// (DeadlineExceeded), honours suspend, deletes finished jobs after
// ttlSecondsAfterFinished, and writes the status and its Complete/Failed
// conditions.
//
// Counting survives restarts as in Kubernetes: every pod is created with
// the batch.kubernetes.io/job-tracking finalizer; a finished pod's uid is
// first written to status.uncountedTerminatedPods, then its finalizer is
// removed, then it moves into status.succeeded or status.failed. A pod
// without the finalizer has been counted.
package job
