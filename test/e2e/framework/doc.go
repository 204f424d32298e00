// Package framework runs a Gantry cluster for end-to-end tests from the
// real binaries: an in-process apiserver (apiservertest) on embedded etcd,
// the scheduler, controller-manager and cloud-controller-manager (docker
// provider) as processes, and nodes each made of a node container — a
// gantry/pause container on the test's Docker network whose network
// namespace stands for the node — a kube-proxy running inside that
// namespace (nsenter), so its iptables rules never touch this machine's,
// and a kubelet whose pods join the test's network.
//
// The processes in node namespaces reach the apiserver (on 127.0.0.1)
// through a relay on the network's gateway address. Everything a Cluster
// makes — processes, containers, its network, temp dirs — is removed in the
// test's cleanup. Setup builds the images and binaries once per test
// binary (from TestMain) and FAILS the tests when Docker is unavailable.
package framework
