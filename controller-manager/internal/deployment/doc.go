// Package deployment is the Deployment controller, a port of Kubernetes'
// pkg/controller/deployment: one ReplicaSet per pod template (named and
// labelled by the template's pod-template-hash), RollingUpdate within
// maxSurge and maxUnavailable or Recreate, proportional scaling during a
// rollout, revision annotations and history trimmed to
// revisionHistoryLimit, pausing, progressDeadlineSeconds, and the full
// status with its Available and Progressing conditions. Rolling back is
// the client's job (client/rollout copies an old ReplicaSet's template into
// the Deployment), as in apps/v1.
package deployment
