package client

import "google.golang.org/grpc"

// Conn is the clientset's connection, for the apiserver's services beside
// ResourceService (apiv1.PodService: logs, exec; see package podexec). It
// is nil for a clientset made by NewForConn, whose caller holds the
// connection.
func (c *Clientset) Conn() *grpc.ClientConn { return c.conn }
