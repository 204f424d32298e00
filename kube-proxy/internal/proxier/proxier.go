package proxier

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/gantryhq/gantry/kube-proxy/internal/iptables"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// DefaultFullSyncPeriod is how often an ordinary sync becomes a full one,
// as Kubernetes' iptables proxier.
const DefaultFullSyncPeriod = time.Hour

// Proxier keeps the desired rules of a node's Services and writes them.
// Its On* methods are informer handlers; Sync writes the rules. All methods
// are safe for concurrent use; Syncs must not overlap (a Runner calls it).
type Proxier struct {
	ipt     iptables.Interface
	opts    Options
	logger  *zap.Logger
	metrics *Metrics
	// FullSyncPeriod: a sync this long after the last full one is full.
	FullSyncPeriod time.Duration
	// Now is the clock.
	Now func() time.Time
	// OnChange, when set, is called after a handler queued a change (a
	// Runner's Trigger).
	OnChange func()

	mu        sync.Mutex
	services  map[string]*corev1.Service
	endpoints map[string]*corev1.Endpoints
	dirty     map[string]bool
	rules     map[string]*serviceRules
	// keys are the keys of rules, sorted; nil when they must be sorted
	// again.
	keys     []string
	needFull bool
	// needSave: read the kernel's chains on the next full sync (at start
	// and after an error) to delete stale ones left by an earlier run.
	needSave bool
	lastFull time.Time
	// lastJumps is when the jumps from built-in chains were last checked.
	lastJumps time.Time
	lastOK    time.Time
	pending   time.Time
	// top holds the top-level chains as last written, "table/chain" ->
	// rules; a partial sync rewrites only those that differ.
	top map[string]string
	// lastSize is the size of the last full sync's input.
	lastSize int
}

// New returns a Proxier writing through ipt. metrics may be nil.
func New(ipt iptables.Interface, opts Options, metrics *Metrics, logger *zap.Logger) *Proxier {
	return &Proxier{
		ipt: ipt, opts: opts, metrics: metrics, logger: logger,
		FullSyncPeriod: DefaultFullSyncPeriod, Now: time.Now,
		services: map[string]*corev1.Service{}, endpoints: map[string]*corev1.Endpoints{},
		dirty: map[string]bool{}, rules: map[string]*serviceRules{},
		needFull: true, needSave: true, top: map[string]string{},
	}
}

func key(namespace, name string) string { return namespace + "/" + name }

func (p *Proxier) changed(k string) {
	p.dirty[k] = true
	if p.pending.IsZero() {
		p.pending = p.Now()
	}
}

func (p *Proxier) notify() {
	if p.OnChange != nil {
		p.OnChange()
	}
}

// OnServiceAdd records a service.
func (p *Proxier) OnServiceAdd(svc *corev1.Service) { p.OnServiceUpdate(nil, svc) }

// OnServiceUpdate records a changed service.
func (p *Proxier) OnServiceUpdate(_, svc *corev1.Service) {
	p.mu.Lock()
	k := key(svc.GetMetadata().GetNamespace(), svc.GetMetadata().GetName())
	p.services[k] = svc
	p.changed(k)
	p.mu.Unlock()
	p.notify()
}

// OnServiceDelete forgets a service.
func (p *Proxier) OnServiceDelete(svc *corev1.Service) {
	p.mu.Lock()
	k := key(svc.GetMetadata().GetNamespace(), svc.GetMetadata().GetName())
	delete(p.services, k)
	p.changed(k)
	p.mu.Unlock()
	p.notify()
}

// OnEndpointsAdd records endpoints.
func (p *Proxier) OnEndpointsAdd(ep *corev1.Endpoints) { p.OnEndpointsUpdate(nil, ep) }

// OnEndpointsUpdate records changed endpoints.
func (p *Proxier) OnEndpointsUpdate(_, ep *corev1.Endpoints) {
	p.mu.Lock()
	k := key(ep.GetMetadata().GetNamespace(), ep.GetMetadata().GetName())
	p.endpoints[k] = ep
	p.changed(k)
	p.mu.Unlock()
	p.notify()
}

// OnEndpointsDelete forgets endpoints.
func (p *Proxier) OnEndpointsDelete(ep *corev1.Endpoints) {
	p.mu.Lock()
	k := key(ep.GetMetadata().GetNamespace(), ep.GetMetadata().GetName())
	delete(p.endpoints, k)
	p.changed(k)
	p.mu.Unlock()
	p.notify()
}

// ForceFullSync makes the next sync a full one.
func (p *Proxier) ForceFullSync() {
	p.mu.Lock()
	p.needFull = true
	p.mu.Unlock()
}

// Sync computes the rules and writes them in one iptables-restore: a full
// sync when one is due, otherwise only the chains of changed services.
func (p *Proxier) Sync(ctx context.Context) (err error) {
	start := p.Now()
	p.mu.Lock()
	full := p.needFull || start.Sub(p.lastFull) >= p.FullSyncPeriod
	save := full && p.needSave
	// The jumps from built-in chains cost one iptables command each (with
	// legacy iptables each reads the whole table): checked at start, after
	// an error and once per FullSyncPeriod.
	checkJumps := full && (save || start.Sub(p.lastJumps) >= p.FullSyncPeriod)
	p.mu.Unlock()

	var existing map[string]bool
	if save {
		if existing, err = p.existingChains(ctx); err != nil {
			return err
		}
	}

	p.mu.Lock()
	dirty := p.dirty
	p.dirty = map[string]bool{}
	data, top, counts := p.render(full, dirty, existing)
	pendingSince := p.pending
	p.pending = time.Time{}
	p.mu.Unlock()

	if len(data) > 0 {
		err = p.ipt.Restore(ctx, data)
	}
	if err == nil && checkJumps {
		err = p.ensureJumps()
		// route_localnet only once KUBE-FIREWALL's DROP is in force.
		if err == nil && p.opts.LocalhostNodePorts {
			err = p.ipt.SetSysctl(routeLocalnet, "1")
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		// Everything again, from what the kernel holds.
		for k := range dirty {
			p.dirty[k] = true
		}
		p.needFull, p.needSave = true, true
		p.top = map[string]string{}
		if p.pending.IsZero() {
			p.pending = pendingSince
		}
		if p.metrics != nil {
			p.metrics.syncErrors.Inc()
		}
		return fmt.Errorf("sync proxy rules: %w", err)
	}
	p.top = top
	if full {
		p.needFull, p.needSave = false, false
		p.lastFull = start
	}
	if checkJumps {
		p.lastJumps = start
	}
	p.lastOK = p.Now()
	if p.metrics != nil {
		kind := "partial"
		if full {
			kind = "full"
		}
		p.metrics.syncDuration.WithLabelValues(kind).Observe(p.Now().Sub(start).Seconds())
		p.metrics.rules.WithLabelValues("nat").Set(float64(counts[0]))
		p.metrics.rules.WithLabelValues("filter").Set(float64(counts[1]))
		p.metrics.lastSync.SetToCurrentTime()
	}
	p.logger.Debug("synced proxy rules", zap.Bool("full", full), zap.Int("changed", len(dirty)),
		zap.Int("natRules", counts[0]), zap.Duration("took", p.Now().Sub(start)))
	return nil
}

// render builds the restore input. It must be called with mu held. It
// returns the input, the top-level chains' rules and the number of rules by
// table (nat, filter). existing, when not nil, are the per-service chains in
// the kernel.
func (p *Proxier) render(full bool, dirty, existing map[string]bool) ([]byte, map[string]string, [2]int) {
	// Rules depend only on a service's Service and Endpoints: recompute
	// those that changed (a full sync writes the cached rest too). The
	// chains a changed service no longer has are stale.
	var stale []string
	for k := range dirty {
		old := p.rules[k]
		var rules *serviceRules
		if svc := p.services[k]; svc != nil {
			rules = buildServiceRules(svc, p.endpoints[k], p.opts)
			p.rules[k] = rules
		} else {
			delete(p.rules, k)
		}
		if (old == nil) != (rules == nil) {
			p.keys = nil
		}
		if old == nil {
			continue
		}
		for _, c := range old.chains {
			if !rules.has(c.name) {
				stale = append(stale, c.name)
			}
		}
	}
	if p.keys == nil {
		p.keys = slices.Sorted(maps.Keys(p.rules))
	}
	keys := p.keys
	if existing != nil {
		// Chains in the kernel that no service has (an earlier run's, or
		// left by a failed sync).
		stale = stale[:0]
		desired := map[string]bool{}
		for _, r := range p.rules {
			for _, c := range r.chains {
				desired[c.name] = true
			}
		}
		for c := range existing {
			if !desired[c] {
				stale = append(stale, c)
			}
		}
	}
	slices.Sort(stale)
	var counts [2]int

	// The top-level chains' rules, each compared with what was written.
	var w ruleWriter
	counts[1] += writeFixedFilter(&w)
	filterForward := w.take()
	filterFirewall := ""
	if p.opts.LocalhostNodePorts {
		counts[1] += writeFirewall(&w)
		filterFirewall = w.take()
	}
	var fs, fe, ns, np strings.Builder
	fs.Grow(len(p.top["filter/"+chainServices]))
	fe.Grow(len(p.top["filter/"+chainExternalServices]))
	ns.Grow(len(p.top["nat/"+chainServices]))
	np.Grow(len(p.top["nat/"+chainNodePorts]))
	for _, k := range keys {
		r := p.rules[k]
		fs.WriteString(r.filterServices)
		fe.WriteString(r.filterExternal)
		ns.WriteString(r.natServices)
		np.WriteString(r.natNodePorts)
		counts[0] += r.natCount
		counts[1] += r.filterCount
	}
	counts[0] += writeFixedNAT(&w, p.opts)
	natFixed := w.take()
	ns.WriteString(nodePortsJump)
	counts[0]++
	top := map[string]string{
		"filter/" + chainServices:                       fs.String(),
		"filter/" + chainExternalServices:               fe.String(),
		"filter/" + chainForward:                        filterForward,
		"filter/" + chainFirewall:                       filterFirewall,
		"nat/" + chainServices:                          ns.String(),
		"nat/" + chainNodePorts:                         np.String(),
		"nat/" + chainMarkMasq + "+" + chainPostrouting: natFixed,
	}
	changed := func(k string) bool { v, ok := p.top[k]; return full || !ok || v != top[k] }

	var buf bytes.Buffer
	if full {
		buf.Grow(p.lastSize)
	}
	filterChains := []string{chainServices, chainExternalServices, chainForward}
	if p.opts.LocalhostNodePorts {
		filterChains = append(filterChains, chainFirewall)
	}
	var filterOut []string
	for _, c := range filterChains {
		if changed("filter/" + c) {
			filterOut = append(filterOut, c)
		}
	}
	if len(filterOut) > 0 {
		buf.WriteString("*filter\n")
		for _, c := range filterOut {
			buf.WriteString(":" + c + " - [0:0]\n")
		}
		for _, c := range filterOut {
			buf.WriteString(top["filter/"+c])
		}
		buf.WriteString("COMMIT\n")
	}

	// nat: the top-level chains that changed, the rewritten service chains
	// and the stale ones.
	var natOut []string
	for _, c := range []string{chainServices, chainNodePorts} {
		if changed("nat/" + c) {
			natOut = append(natOut, c)
		}
	}
	if changed("nat/" + chainMarkMasq + "+" + chainPostrouting) {
		natOut = append(natOut, chainPostrouting, chainMarkMasq)
	}
	var rewrite []chain
	if full {
		for _, k := range keys {
			rewrite = append(rewrite, p.rules[k].chains...)
		}
	} else {
		for _, k := range keys {
			if dirty[k] {
				rewrite = append(rewrite, p.rules[k].chains...)
			}
		}
	}
	if len(natOut)+len(rewrite)+len(stale) > 0 {
		buf.WriteString("*nat\n")
		for _, c := range natOut {
			buf.WriteString(":" + c + " - [0:0]\n")
		}
		for _, c := range rewrite {
			buf.WriteString(":" + c.name + " - [0:0]\n")
		}
		for _, c := range stale {
			buf.WriteString(":" + c + " - [0:0]\n")
		}
		if slices.Contains(natOut, chainMarkMasq) {
			buf.WriteString(natFixed)
		}
		for _, c := range []string{chainServices, chainNodePorts} {
			if slices.Contains(natOut, c) {
				buf.WriteString(top["nat/"+c])
			}
		}
		for _, c := range rewrite {
			buf.WriteString(c.rules)
		}
		for _, c := range stale {
			buf.WriteString("-X " + c + "\n")
		}
		buf.WriteString("COMMIT\n")
	}
	if full {
		p.lastSize = buf.Len()
	}
	return buf.Bytes(), top, counts
}

// existingChains lists the per-service nat chains in the kernel.
func (p *Proxier) existingChains(ctx context.Context) (map[string]bool, error) {
	data, err := p.ipt.Save(ctx, iptables.TableNAT)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, ":") {
			continue
		}
		name, _, _ := strings.Cut(line[1:], " ")
		if serviceChain(name) {
			out[name] = true
		}
	}
	return out, sc.Err()
}

func (p *Proxier) ensureJumps() error {
	var errs []error
	all := jumps
	if p.opts.LocalhostNodePorts {
		all = append(slices.Clone(jumps), firewallJumps...)
	}
	for _, j := range all {
		if _, err := p.ipt.EnsureRule(j.table, j.chain, j.rule...); err != nil {
			errs = append(errs, fmt.Errorf("ensure jump %s/%s -> %s: %w", j.table, j.chain, j.rule[len(j.rule)-1], err))
		}
	}
	return errors.Join(errs...)
}

// Healthy reports whether rules are being written: the last successful sync
// is recent, or no change has waited longer than maxDelay.
func (p *Proxier) Healthy(maxDelay time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.Now()
	if p.lastOK.IsZero() {
		return errors.New("no successful sync yet")
	}
	if !p.pending.IsZero() && now.Sub(p.pending) > maxDelay {
		return fmt.Errorf("changes pending since %s, last successful sync %s", p.pending.Format(time.RFC3339), p.lastOK.Format(time.RFC3339))
	}
	if now.Sub(p.lastOK) > maxDelay {
		return fmt.Errorf("last successful sync %s", p.lastOK.Format(time.RFC3339))
	}
	return nil
}

// Cleanup removes every rule and chain kube-proxy writes: the jumps from
// built-in chains, then its own chains in both tables. Nothing else is
// touched.
func Cleanup(ctx context.Context, ipt iptables.Interface) error {
	var errs []error
	own := map[string][]string{}
	for _, table := range []string{iptables.TableFilter, iptables.TableNAT} {
		chains, err := ipt.ListChains(table)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, c := range chains {
			if ownChain(c) {
				own[table] = append(own[table], c)
			}
		}
	}
	// route_localnet off before the DROP that guards it goes (only if it was
	// ours: KUBE-FIREWALL exists).
	if slices.Contains(own[iptables.TableFilter], chainFirewall) {
		if err := ipt.SetSysctl(routeLocalnet, "0"); err != nil {
			errs = append(errs, err)
		}
	}
	// The jumps first (a rule naming a missing chain cannot exist).
	for _, j := range append(slices.Clone(jumps), firewallJumps...) {
		if !slices.Contains(own[j.table], j.rule[len(j.rule)-1]) {
			continue
		}
		if err := ipt.DeleteRule(j.table, j.chain, j.rule...); err != nil {
			errs = append(errs, fmt.Errorf("delete jump %s/%s: %w", j.table, j.chain, err))
		}
	}
	var buf bytes.Buffer
	for _, table := range []string{iptables.TableFilter, iptables.TableNAT} {
		if len(own[table]) == 0 {
			continue
		}
		buf.WriteString("*" + table + "\n")
		for _, c := range own[table] {
			buf.WriteString(":" + c + " - [0:0]\n")
		}
		for _, c := range own[table] {
			buf.WriteString("-X " + c + "\n")
		}
		buf.WriteString("COMMIT\n")
	}
	if buf.Len() > 0 {
		if err := ipt.Restore(ctx, buf.Bytes()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Metrics are the proxier's Prometheus metrics.
type Metrics struct {
	syncDuration *prometheus.HistogramVec
	rules        *prometheus.GaugeVec
	syncErrors   prometheus.Counter
	lastSync     prometheus.Gauge
}

// NewMetrics registers the metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		syncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kubeproxy_sync_proxy_rules_duration_seconds",
			Help:    "How long one sync of the proxy rules took, by kind (full or partial).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}, []string{"kind"}),
		rules: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kubeproxy_sync_proxy_rules_iptables_total",
			Help: "Number of iptables rules kube-proxy holds, by table.",
		}, []string{"table"}),
		syncErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kubeproxy_sync_proxy_rules_errors_total",
			Help: "Syncs of the proxy rules that failed.",
		}),
		lastSync: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kubeproxy_sync_proxy_rules_last_timestamp_seconds",
			Help: "When the proxy rules were last synced successfully.",
		}),
	}
	reg.MustRegister(m.syncDuration, m.rules, m.syncErrors, m.lastSync)
	return m
}
