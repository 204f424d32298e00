package proxier

import (
	"strconv"
	"strings"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// Options shape the rules.
type Options struct {
	// MasqueradeAll masquerades all traffic to cluster IPs.
	MasqueradeAll bool
	// ClusterCIDR is the pod network; traffic to a cluster IP from outside
	// it is masqueraded. Empty: only hairpin and external traffic is.
	ClusterCIDR string
	// Hostname is this node's name: endpoints whose nodeName it is are
	// local (for the Local traffic policies).
	Hostname string
	// RandomFully adds --random-fully to the MASQUERADE rule.
	RandomFully bool
	// LocalhostNodePorts makes node ports answer on 127.0.0.1 too: it sets
	// route_localnet, and first the KUBE-FIREWALL rule Kubernetes adds with
	// it, which drops traffic to 127.0.0.0/8 from elsewhere.
	LocalhostNodePorts bool
}

// chain is one per-service nat chain and its rules, each line ending "\n".
type chain struct {
	name  string
	rules string
}

// serviceRules are the rules of one Service (all its ports), cached between
// syncs until its Service or Endpoints change.
type serviceRules struct {
	// Lines for the top-level chains.
	natServices, natNodePorts, filterServices, filterExternal string
	// chains are the service's own nat chains (KUBE-SVC, KUBE-EXT, KUBE-SEP).
	chains []chain
	// count is the number of rules, by table.
	natCount, filterCount int
}

// has reports whether r (nil: none) has a chain of that name.
func (r *serviceRules) has(name string) bool {
	if r == nil {
		return false
	}
	for _, c := range r.chains {
		if c.name == name {
			return true
		}
	}
	return false
}

// ruleWriter builds rule lines.
type ruleWriter struct{ b strings.Builder }

func (w *ruleWriter) line(words ...string) {
	for i, word := range words {
		if i > 0 {
			w.b.WriteByte(' ')
		}
		w.b.WriteString(word)
	}
	w.b.WriteByte('\n')
}

func (w *ruleWriter) take() string {
	s := w.b.String()
	w.b.Reset()
	return s
}

func quote(s string) string { return `"` + s + `"` }

func hostCIDR(ip string) string {
	if strings.Contains(ip, ":") {
		return ip + "/128"
	}
	return ip + "/32"
}

// buildServiceRules computes the rules of one service from its Service and
// Endpoints (either may be nil).
func buildServiceRules(svc *corev1.Service, ep *corev1.Endpoints, opts Options) *serviceRules {
	out := &serviceRules{}
	if svc == nil {
		return out
	}
	eps := endpointsByPort(ep, opts.Hostname)
	var natSvc, natNP, filSvc, filExt, ch ruleWriter
	for _, sp := range servicePorts(svc) {
		proto := strings.ToLower(sp.name.Protocol)
		port := strconv.Itoa(int(sp.port))
		name := sp.name.String()
		endpoints := eps[sp.name]
		svcName := svcChain(sp.name)
		external := sp.nodePort != 0 || len(sp.externalIPs) > 0

		if len(endpoints) == 0 {
			filSvc.line("-A", chainServices, "-m comment --comment", quote(name+" has no endpoints"),
				"-m", proto, "-p", proto, "-d", hostCIDR(sp.clusterIP), "--dport", port, "-j REJECT")
			out.filterCount++
			for _, ip := range sp.externalIPs {
				filExt.line("-A", chainExternalServices, "-m comment --comment", quote(name+" has no endpoints"),
					"-m", proto, "-p", proto, "-d", hostCIDR(ip), "--dport", port, "-j REJECT")
				out.filterCount++
			}
			if sp.nodePort != 0 {
				filExt.line("-A", chainExternalServices, "-m comment --comment", quote(name+" has no endpoints"),
					"-m addrtype --dst-type LOCAL", "-m", proto, "-p", proto, "--dport", strconv.Itoa(int(sp.nodePort)), "-j REJECT")
				out.filterCount++
			}
			continue
		}
		var local []endpoint
		for _, e := range endpoints {
			if e.local {
				local = append(local, e)
			}
		}
		seps := map[endpoint]string{}
		for _, e := range endpoints {
			seps[e] = sepChain(sp.name, e)
		}
		svlName := svlChain(sp.name)
		internalChain, internalEndpoints := svcName, endpoints
		if sp.internalLocal {
			internalChain, internalEndpoints = svlName, local
		}
		externalEndpoints := endpoints
		if sp.externalLocal {
			externalEndpoints = local
		}

		// Cluster IP: to the internal chain, or dropped when its policy is
		// Local and this node has none.
		if len(internalEndpoints) == 0 {
			filSvc.line("-A", chainServices, "-m comment --comment", quote(name+" has no local endpoints"),
				"-m", proto, "-p", proto, "-d", hostCIDR(sp.clusterIP), "--dport", port, "-j DROP")
			out.filterCount++
		} else {
			natSvc.line("-A", chainServices, "-m comment --comment", quote(name+" cluster IP"),
				"-m", proto, "-p", proto, "-d", hostCIDR(sp.clusterIP), "--dport", port, "-j", internalChain)
			out.natCount++
		}
		if external && len(externalEndpoints) == 0 {
			for _, ip := range sp.externalIPs {
				filExt.line("-A", chainExternalServices, "-m comment --comment", quote(name+" has no local endpoints"),
					"-m", proto, "-p", proto, "-d", hostCIDR(ip), "--dport", port, "-j DROP")
				out.filterCount++
			}
			if sp.nodePort != 0 {
				filExt.line("-A", chainExternalServices, "-m comment --comment", quote(name+" has no local endpoints"),
					"-m addrtype --dst-type LOCAL", "-m", proto, "-p", proto, "--dport", strconv.Itoa(int(sp.nodePort)), "-j DROP")
				out.filterCount++
			}
		} else if external {
			extName := extChain(sp.name)
			for _, ip := range sp.externalIPs {
				natSvc.line("-A", chainServices, "-m comment --comment", quote(name+" external IP"),
					"-m", proto, "-p", proto, "-d", hostCIDR(ip), "--dport", port, "-j", extName)
				out.natCount++
			}
			if sp.nodePort != 0 {
				natNP.line("-A", chainNodePorts, "-m comment --comment", quote(name),
					"-m", proto, "-p", proto, "--dport", strconv.Itoa(int(sp.nodePort)), "-j", extName)
				out.natCount++
			}
			if sp.externalLocal {
				// Pods and the node itself may use any endpoint; traffic from
				// outside goes only to local ones and keeps its source.
				if opts.ClusterCIDR != "" {
					ch.line("-A", extName, "-m comment --comment", quote("pod traffic for "+name+" external destinations"),
						"-s", opts.ClusterCIDR, "-j", svcName)
					out.natCount++
				}
				ch.line("-A", extName, "-m comment --comment", quote("masquerade LOCAL traffic for "+name+" external destinations"),
					"-m addrtype --src-type LOCAL -j", chainMarkMasq)
				ch.line("-A", extName, "-m comment --comment", quote("route LOCAL traffic for "+name+" external destinations"),
					"-m addrtype --src-type LOCAL -j", svcName)
				ch.line("-A", extName, "-j", svlName)
				out.natCount += 3
			} else {
				ch.line("-A", extName, "-m comment --comment", quote("masquerade traffic for "+name+" external destinations"), "-j", chainMarkMasq)
				ch.line("-A", extName, "-j", svcName)
				out.natCount += 2
			}
			out.chains = append(out.chains, chain{name: extName, rules: ch.take()})
		}

		// KUBE-SVC (every endpoint) and KUBE-SVL (this node's): the cluster
		// IP's masquerade rule in the internal chain, affinity, then the
		// random spread.
		used := map[endpoint]bool{}
		spread := func(chainName string, eps []endpoint) {
			for _, e := range eps {
				used[e] = true
			}
			if chainName == internalChain {
				switch {
				case opts.MasqueradeAll:
					ch.line("-A", chainName, "-m comment --comment", quote(name+" cluster IP"),
						"-m", proto, "-p", proto, "-d", hostCIDR(sp.clusterIP), "--dport", port, "-j", chainMarkMasq)
					out.natCount++
				case opts.ClusterCIDR != "":
					ch.line("-A", chainName, "-m comment --comment", quote(name+" cluster IP"),
						"-m", proto, "-p", proto, "!", "-s", opts.ClusterCIDR, "-d", hostCIDR(sp.clusterIP), "--dport", port, "-j", chainMarkMasq)
					out.natCount++
				}
			}
			if sp.affinity > 0 {
				for _, e := range eps {
					ch.line("-A", chainName, "-m comment --comment", quote(name+" -> "+e.String()),
						"-m recent --name", seps[e], "--rcheck --seconds", strconv.Itoa(int(sp.affinity)), "--reap -j", seps[e])
					out.natCount++
				}
			}
			for i, e := range eps {
				if n := len(eps) - i; n > 1 {
					ch.line("-A", chainName, "-m comment --comment", quote(name+" -> "+e.String()),
						"-m statistic --mode random --probability", probability(n), "-j", seps[e])
				} else {
					ch.line("-A", chainName, "-m comment --comment", quote(name+" -> "+e.String()), "-j", seps[e])
				}
				out.natCount++
			}
			out.chains = append(out.chains, chain{name: chainName, rules: ch.take()})
		}
		if !sp.internalLocal || external {
			spread(svcName, endpoints)
		}
		if len(local) > 0 && (sp.internalLocal || (external && sp.externalLocal)) {
			spread(svlName, local)
		}

		for _, e := range endpoints {
			if !used[e] {
				continue
			}
			sep := seps[e]
			ch.line("-A", sep, "-m comment --comment", quote(name), "-s", hostCIDR(e.ip), "-j", chainMarkMasq)
			if sp.affinity > 0 {
				ch.line("-A", sep, "-m comment --comment", quote(name), "-m", proto, "-p", proto,
					"-m recent --name", sep, "--set", "-j DNAT --to-destination", e.String())
			} else {
				ch.line("-A", sep, "-m comment --comment", quote(name), "-m", proto, "-p", proto,
					"-j DNAT --to-destination", e.String())
			}
			out.natCount += 2
			out.chains = append(out.chains, chain{name: sep, rules: ch.take()})
		}
	}
	out.natServices, out.natNodePorts = natSvc.take(), natNP.take()
	out.filterServices, out.filterExternal = filSvc.take(), filExt.take()
	return out
}

// Fixed rules of the top-level chains.
const masqMark = "0x4000"

func writeFixedNAT(w *ruleWriter, opts Options) int {
	w.line("-A", chainMarkMasq, "-j MARK --or-mark", masqMark)
	w.line("-A", chainPostrouting, "-m mark ! --mark", masqMark+"/"+masqMark, "-j RETURN")
	w.line("-A", chainPostrouting, "-j MARK --xor-mark", masqMark)
	masq := []string{"-A", chainPostrouting, "-m comment --comment", quote("kubernetes service traffic requiring SNAT"), "-j MASQUERADE"}
	if opts.RandomFully {
		masq = append(masq, "--random-fully")
	}
	w.line(masq...)
	return 4
}

// writeFirewall writes the rule that makes route_localnet safe: packets to
// 127.0.0.0/8 from outside it are dropped unless they belong to a
// connection (or were DNATed by us).
func writeFirewall(w *ruleWriter) int {
	w.line("-A", chainFirewall, "-m comment --comment", quote("block incoming localnet connections"),
		"-d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP")
	return 1
}

func writeFixedFilter(w *ruleWriter) int {
	w.line("-A", chainForward, "-m conntrack --ctstate INVALID -j DROP")
	w.line("-A", chainForward, "-m comment --comment", quote("kubernetes forwarding rules"), "-m mark --mark", masqMark+"/"+masqMark, "-j ACCEPT")
	w.line("-A", chainForward, "-m comment --comment", quote("kubernetes forwarding conntrack rule"), "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
	return 3
}

// nodePortsJump is the last rule of nat KUBE-SERVICES.
var nodePortsJump = "-A " + chainServices + ` -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j ` + chainNodePorts + "\n"

// jump is a rule in a built-in chain leading into one of ours.
type jump struct {
	table, chain string
	rule         []string
}

// jumps are the rules kube-proxy keeps in built-in chains.
var jumps = []jump{
	{"filter", "INPUT", []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes externally-visible service portals", "-j", chainExternalServices}},
	{"filter", "FORWARD", []string{"-m", "comment", "--comment", "kubernetes forwarding rules", "-j", chainForward}},
	{"filter", "FORWARD", []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes service portals", "-j", chainServices}},
	{"filter", "FORWARD", []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes externally-visible service portals", "-j", chainExternalServices}},
	{"filter", "OUTPUT", []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "kubernetes service portals", "-j", chainServices}},
	{"nat", "PREROUTING", []string{"-m", "comment", "--comment", "kubernetes service portals", "-j", chainServices}},
	{"nat", "OUTPUT", []string{"-m", "comment", "--comment", "kubernetes service portals", "-j", chainServices}},
	{"nat", "POSTROUTING", []string{"-m", "comment", "--comment", "kubernetes postrouting rules", "-j", chainPostrouting}},
}

// firewallJumps lead to KUBE-FIREWALL, with LocalhostNodePorts.
var firewallJumps = []jump{
	{"filter", "INPUT", []string{"-j", chainFirewall}},
	{"filter", "OUTPUT", []string{"-j", chainFirewall}},
}

// routeLocalnet is the sysctl LocalhostNodePorts sets.
const routeLocalnet = "net.ipv4.conf.all.route_localnet"
