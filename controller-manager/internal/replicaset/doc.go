// Package replicaset is the ReplicaSet controller: it keeps spec.replicas
// pods matching each ReplicaSet's selector, adopting orphans and releasing
// pods that no longer match, creating in slow-start batches, deleting the
// least useful pods first, and never acting twice on a stale cache
// (expectations). It writes status replicas, fullyLabeledReplicas,
// readyReplicas, availableReplicas and observedGeneration.
package replicaset
