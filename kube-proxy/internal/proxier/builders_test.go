package proxier

import (
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// svcB builds a Service for tests.
type svcB struct{ s *corev1.Service }

func makeService(ns, name, clusterIP string) svcB {
	return svcB{&corev1.Service{
		Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:     &corev1.ServiceSpec{Type: "ClusterIP", ClusterIp: clusterIP, SessionAffinity: "None"},
	}}
}

func (b svcB) port(name string, port, nodePort int32) svcB {
	b.s.Spec.Ports = append(b.s.Spec.Ports, &corev1.ServicePort{Name: name, Protocol: "TCP", Port: port, NodePort: nodePort})
	return b
}

func (b svcB) udp(name string, port int32) svcB {
	b.s.Spec.Ports = append(b.s.Spec.Ports, &corev1.ServicePort{Name: name, Protocol: "UDP", Port: port})
	return b
}

func (b svcB) typ(t string) svcB { b.s.Spec.Type = t; return b }

func (b svcB) externalIP(ip string) svcB {
	b.s.Spec.ExternalIps = append(b.s.Spec.ExternalIps, ip)
	return b
}

// lb adds a load-balancer ingress IP with ipMode mode ("" leaves it unset).
func (b svcB) lb(ip, mode string) svcB {
	if b.s.Status == nil {
		b.s.Status = &corev1.ServiceStatus{LoadBalancer: &corev1.LoadBalancerStatus{}}
	}
	ing := &corev1.LoadBalancerIngress{Ip: ip}
	if mode != "" {
		ing.IpMode = &mode
	}
	b.s.Status.LoadBalancer.Ingress = append(b.s.Status.LoadBalancer.Ingress, ing)
	return b
}

func (b svcB) affinity(seconds int32) svcB {
	b.s.Spec.SessionAffinity = "ClientIP"
	b.s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIp: &corev1.ClientIPConfig{TimeoutSeconds: &seconds}}
	return b
}

func (b svcB) obj() *corev1.Service { return b.s }

// epB builds Endpoints for tests.
type epB struct{ e *corev1.Endpoints }

func makeEndpoints(ns, name string) epB {
	return epB{&corev1.Endpoints{Metadata: &metav1.ObjectMeta{Namespace: ns, Name: name}}}
}

// subset adds a subset of the given ready IPs serving one named port.
func (b epB) subset(portName string, port int32, ips ...string) epB {
	s := &corev1.EndpointSubset{Ports: []*corev1.EndpointPort{{Name: portName, Port: port, Protocol: "TCP"}}}
	for _, ip := range ips {
		s.Addresses = append(s.Addresses, &corev1.EndpointAddress{Ip: ip})
	}
	b.e.Subsets = append(b.e.Subsets, s)
	return b
}

// on sets the nodeName of the last subset's addresses.
func (b epB) on(node string, ips ...string) epB {
	s := b.e.Subsets[len(b.e.Subsets)-1]
	for _, a := range s.Addresses {
		for _, ip := range ips {
			if a.Ip == ip {
				a.NodeName = &node
			}
		}
	}
	return b
}

func (b svcB) policies(internal, external string) svcB {
	if internal != "" {
		b.s.Spec.InternalTrafficPolicy = &internal
	}
	b.s.Spec.ExternalTrafficPolicy = external
	return b
}

func (b epB) notReady(ip string) epB {
	b.e.Subsets[len(b.e.Subsets)-1].NotReadyAddresses = append(b.e.Subsets[len(b.e.Subsets)-1].NotReadyAddresses, &corev1.EndpointAddress{Ip: ip})
	return b
}

func (b epB) obj() *corev1.Endpoints { return b.e }
