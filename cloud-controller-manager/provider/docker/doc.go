// Package docker is the cloud provider of the dev cluster, in the manner of
// kind's cloud-provider-kind: the "cloud" is the local Docker engine.
//
// Instances are the Docker containers that run the cluster's nodes. A node's
// container is the one labelled gantry.dev/node=<node name> (--docker-node-label
// changes the key) or, failing that, the one named like the node (as the
// kubelets of docker-compose.yaml are: gantry-node-1). Its address on the
// cluster's network (--docker-network, default "gantry") is the node's
// InternalIP; a stopped container is a shut-down instance; a removed one is
// a vanished instance, whose node the lifecycle controller deletes.
//
// A node with no container at all — a kubelet run on the host, as by
// hack/local-up-cluster.sh — is treated as existing while
// --docker-unbacked-nodes-exist is true (the default, so that pointing the
// provider at such a cluster never deletes its nodes); its provider ID is
// "docker://<node name>" and its addresses are left as the kubelet reported
// them. Set the flag to false where every node is a container, so that
// removing a node's container removes the node.
//
// A load balancer is a container started from gantry/lb:latest
// (--docker-lb-image; built by hack/images/lb/build.sh, FROM scratch) on the
// cluster's network, named gantry-lb-<cluster>-<namespace>-<service> and
// labelled io.gantry.cluster=<cluster> and io.gantry.lb.service=<ns>/<name>.
// It forwards each TCP service port to the service's node port on the
// InternalIP of every ready node. Its address on that network is the ingress
// IP (ipMode Proxy). The provider writes the forwarding config into the
// container (/etc/gantry-lb/config.json) and sends it SIGHUP; a node change
// only rewrites the file, so the address never changes while the service
// lives. Ports of other protocols are reported in status with the error
// "UnsupportedProtocol".
//
// Routes are not supported: the dev cluster's network is one flat bridge,
// every pod already reaches every pod, so Routes() reports false and the
// route controller does not run.
package docker
