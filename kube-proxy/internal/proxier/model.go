package proxier

import (
	"cmp"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// ServicePortName is one port of a service, "namespace/name:port".
type ServicePortName struct {
	Namespace, Name, Port string
	// Protocol is TCP, UDP or SCTP.
	Protocol string
}

func (s ServicePortName) String() string {
	if s.Port == "" {
		return s.Namespace + "/" + s.Name
	}
	return s.Namespace + "/" + s.Name + ":" + s.Port
}

// servicePort is what the rules need of one service port.
type servicePort struct {
	name      ServicePortName
	clusterIP string
	port      int32
	nodePort  int32
	// externalIPs are spec.externalIPs and the load balancer's ingress IPs.
	externalIPs []string
	// affinity is the ClientIP affinity timeout in seconds, 0 for none.
	affinity int32
	// internalLocal and externalLocal: the traffic policies are Local
	// (only this node's endpoints; external traffic keeps its source).
	internalLocal, externalLocal bool
}

// endpoint is one ready backend of a service port.
type endpoint struct {
	ip   string
	port int32
	// local: the endpoint is on this node.
	local bool
}

func (e endpoint) String() string { return joinHostPort(e.ip, e.port) }

func joinHostPort(ip string, port int32) string {
	if strings.Contains(ip, ":") {
		return "[" + ip + "]:" + strconv.Itoa(int(port))
	}
	return ip + ":" + strconv.Itoa(int(port))
}

// servicePorts lists the ports of svc that get rules: none for headless and
// ExternalName services.
func servicePorts(svc *corev1.Service) []servicePort {
	spec := svc.GetSpec()
	if spec == nil || spec.Type == "ExternalName" || spec.ClusterIp == "" || spec.ClusterIp == "None" {
		return nil
	}
	var external []string
	external = append(external, spec.ExternalIps...)
	for _, ing := range svc.GetStatus().GetLoadBalancer().GetIngress() {
		// An ingress IP in ipMode Proxy belongs to a load balancer that
		// forwards to the node ports: as in Kubernetes, the node does not
		// take its traffic itself.
		if ing.Ip != "" && ing.GetIpMode() != "Proxy" {
			external = append(external, ing.Ip)
		}
	}
	var affinity int32
	if spec.SessionAffinity == "ClientIP" {
		affinity = 10800
		if t := spec.GetSessionAffinityConfig().GetClientIp().TimeoutSeconds; t != nil && *t > 0 {
			affinity = *t
		}
	}
	out := make([]servicePort, 0, len(spec.Ports))
	for _, p := range spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "TCP"
		}
		nodePort := p.NodePort
		if spec.Type != "NodePort" && spec.Type != "LoadBalancer" {
			nodePort = 0
		}
		out = append(out, servicePort{
			name:      ServicePortName{Namespace: svc.GetMetadata().GetNamespace(), Name: svc.GetMetadata().GetName(), Port: p.Name, Protocol: proto},
			clusterIP: spec.ClusterIp, port: p.Port, nodePort: nodePort,
			externalIPs: external, affinity: affinity,
			internalLocal: spec.GetInternalTrafficPolicy() == "Local",
			externalLocal: spec.ExternalTrafficPolicy == "Local" && (nodePort != 0 || len(external) > 0),
		})
	}
	return out
}

// endpointsByPort maps each port of ep to its ready addresses, sorted;
// those whose nodeName is hostname are local.
func endpointsByPort(ep *corev1.Endpoints, hostname string) map[ServicePortName][]endpoint {
	if ep == nil {
		return nil
	}
	out := map[ServicePortName][]endpoint{}
	for _, s := range ep.Subsets {
		for _, p := range s.Ports {
			proto := p.Protocol
			if proto == "" {
				proto = "TCP"
			}
			name := ServicePortName{Namespace: ep.GetMetadata().GetNamespace(), Name: ep.GetMetadata().GetName(), Port: p.Name, Protocol: proto}
			for _, a := range s.Addresses {
				local := hostname != "" && a.GetNodeName() == hostname
				out[name] = append(out[name], endpoint{ip: a.Ip, port: p.Port, local: local})
			}
		}
	}
	for name, eps := range out {
		slices.SortFunc(eps, func(a, b endpoint) int {
			return cmp.Or(cmp.Compare(a.ip, b.ip), cmp.Compare(a.port, b.port))
		})
		out[name] = slices.Compact(eps)
	}
	return out
}

// Chain name prefixes, as Kubernetes'.
const (
	chainServices         = "KUBE-SERVICES"
	chainExternalServices = "KUBE-EXTERNAL-SERVICES"
	chainNodePorts        = "KUBE-NODEPORTS"
	chainPostrouting      = "KUBE-POSTROUTING"
	chainMarkMasq         = "KUBE-MARK-MASQ"
	chainForward          = "KUBE-FORWARD"
	chainFirewall         = "KUBE-FIREWALL"
	prefixSVC             = "KUBE-SVC-"
	prefixSVL             = "KUBE-SVL-"
	prefixEXT             = "KUBE-EXT-"
	prefixSEP             = "KUBE-SEP-"
)

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base32.StdEncoding.EncodeToString(sum[:])[:16]
}

func svcChain(n ServicePortName) string {
	return prefixSVC + hash(n.String()+strings.ToLower(n.Protocol))
}
func svlChain(n ServicePortName) string {
	return prefixSVL + hash(n.String()+strings.ToLower(n.Protocol))
}
func extChain(n ServicePortName) string {
	return prefixEXT + hash(n.String()+strings.ToLower(n.Protocol))
}
func sepChain(n ServicePortName, e endpoint) string {
	return prefixSEP + hash(n.String()+strings.ToLower(n.Protocol)+e.String())
}

// serviceChain reports whether a chain is one of a service's own (not a
// top-level chain).
func serviceChain(name string) bool {
	return strings.HasPrefix(name, prefixSVC) || strings.HasPrefix(name, prefixSVL) ||
		strings.HasPrefix(name, prefixEXT) || strings.HasPrefix(name, prefixSEP)
}

// ownChain reports whether a chain name is one kube-proxy writes.
func ownChain(name string) bool {
	switch name {
	case chainServices, chainExternalServices, chainNodePorts, chainPostrouting, chainMarkMasq, chainForward, chainFirewall:
		return true
	}
	return serviceChain(name)
}

func probability(n int) string { return fmt.Sprintf("%0.10f", 1.0/float64(n)) }
