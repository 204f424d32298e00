// Package devcluster is what `make up` needs beyond docker-compose: merge the
// cluster's admin credentials into the user's client config as a context, and
// tell when the nodes, a Deployment and a LoadBalancer Service are ready.
package devcluster
