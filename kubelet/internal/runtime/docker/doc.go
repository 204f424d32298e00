// Package docker is the kubelet's Runtime over the Docker engine API
// (github.com/moby/moby/client, pinned to API 1.41). Each pod is one pause
// container (its sandbox), attached to one Docker network and holding the
// pod's IP, plus one container per app container joining the sandbox's
// network and IPC namespaces. Every container carries the labels of
// package runtime (pod uid, namespace, name, container name, attempt,
// node), which is all the state there is: a restarted kubelet reads it
// back.
package docker
