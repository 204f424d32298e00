// Package nodename is the NodeName plugin: a pod that names a node fits only
// that node.
package nodename
