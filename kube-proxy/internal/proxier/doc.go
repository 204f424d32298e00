// Package proxier turns Services and Endpoints into iptables NAT rules, in
// the shape of Kubernetes' iptables proxier (pkg/proxy/iptables):
//
//	nat PREROUTING/OUTPUT -> KUBE-SERVICES
//	  -d clusterIP --dport port            -> KUBE-SVC-<hash>
//	  -d externalIP --dport port           -> KUBE-EXT-<hash>
//	  (last) dst-type LOCAL                -> KUBE-NODEPORTS
//	KUBE-NODEPORTS --dport nodePort        -> KUBE-EXT-<hash>
//	KUBE-EXT-<hash>: KUBE-MARK-MASQ, then KUBE-SVC-<hash>
//	KUBE-SVC-<hash>: KUBE-MARK-MASQ for traffic not from the pod network
//	  (all with --masquerade-all), `recent` checks for ClientIP affinity,
//	  then one rule per endpoint, `statistic --mode random --probability
//	  1/n` -> KUBE-SEP-<hash>
//	KUBE-SVL-<hash>: like KUBE-SVC over this node's endpoints only, for
//	  internalTrafficPolicy Local (cluster IP) and externalTrafficPolicy
//	  Local (KUBE-EXT then masquerades only the node's own traffic, so
//	  outside clients keep their source address); without local endpoints
//	  such traffic is dropped in the filter table
//	KUBE-SEP-<hash>: KUBE-MARK-MASQ for the endpoint itself (hairpin), DNAT
//	nat POSTROUTING -> KUBE-POSTROUTING: MASQUERADE what KUBE-MARK-MASQ marked
//	filter: KUBE-SERVICES / KUBE-EXTERNAL-SERVICES REJECT services without
//	  endpoints; KUBE-FORWARD accepts marked and established traffic;
//	  with LocalhostNodePorts, KUBE-FIREWALL drops traffic to 127.0.0.0/8
//	  from elsewhere, and only then is route_localnet set.
//
// Each sync recomputes the desired rules and writes them with one
// iptables-restore --noflush, naming only kube-proxy's own chains. An
// ordinary (partial) sync rewrites the top-level chains and only the
// per-service chains of services whose Service or Endpoints changed; a full
// sync, at start, after an error and periodically, rewrites every chain and
// deletes stale ones. Syncs are rate-bounded by a Runner.
package proxier
