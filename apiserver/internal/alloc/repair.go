package alloc

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/gantryhq/gantry/apiserver/internal/storage"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// servicesPrefix is where the registry keeps Services.
const servicesPrefix = "/registry/services/"

// RepairResult counts what one Repair pass changed.
type RepairResult struct {
	// Freed are values held by no Service for a whole pass interval.
	Freed int
	// Recorded are values Services hold that had no key.
	Recorded int
	// Conflicts are values two Services claim; they are only reported.
	Conflicts []string
}

// Repair is Kubernetes' allocation repair loop, one pass: values whose key
// names no existing Service and that were last written before since (the
// revision of the previous pass; 0: never free) are freed, and values
// Services hold without a key get one. It returns the revision to pass as
// since next time. Keys written after since are left alone, so a create
// that reserved but has not yet stored its Service is never robbed.
func (a *Allocator) Repair(ctx context.Context, since int64) (int64, RepairResult, error) {
	var res RepairResult
	// Keys first, then services: a key created after the first read is
	// newer than since anyway.
	ips, err := a.ips.store.List(ctx, IPPrefix, "", 0, 0)
	if err != nil {
		return since, res, err
	}
	ports, err := a.ports.store.List(ctx, PortPrefix, "", 0, 0)
	if err != nil {
		return since, res, err
	}
	svcs, err := a.ips.store.List(ctx, servicesPrefix, "", 0, 0)
	if err != nil {
		return since, res, err
	}
	uids := map[string]bool{}
	wantIPs := map[string]owner{}
	wantPorts := map[string]owner{}
	for _, kv := range svcs.KVs {
		svc := &corev1.Service{}
		if err := proto.Unmarshal(kv.Value, svc); err != nil {
			return since, res, fmt.Errorf("decode %s: %w", kv.Key, err)
		}
		o := owner{uid: svc.GetMetadata().GetUid(), name: svc.GetMetadata().GetNamespace() + "/" + svc.GetMetadata().GetName()}
		uids[o.uid] = true
		if ip := heldIP(svc.GetSpec()); ip != "" {
			if addr, err := netip.ParseAddr(ip); err == nil && a.ipRange.Contains(addr) {
				claim(wantIPs, addr.String(), o, &res)
			}
		}
		for _, n := range heldPorts(svc.GetSpec()) {
			if a.portRange.Contains(n) {
				claim(wantPorts, strconv.Itoa(n), o, &res)
			}
		}
	}
	for _, pass := range []struct {
		pool *pool
		keys storage.ListResult
		want map[string]owner
	}{{a.ips, ips, wantIPs}, {a.ports, ports, wantPorts}} {
		have := map[string]bool{}
		for _, kv := range pass.keys.KVs {
			name := strings.TrimPrefix(kv.Key, pass.pool.prefix)
			have[name] = true
			if uids[ownerUID(kv.Value)] || since == 0 || kv.ModRevision >= since {
				continue
			}
			_, err := pass.pool.store.Delete(ctx, kv.Key, kv.ModRevision)
			switch {
			case err == nil:
				res.Freed++
			case errors.Is(err, storage.ErrConflict), errors.Is(err, storage.ErrNotFound):
			default:
				return since, res, err
			}
		}
		for name, o := range pass.want {
			if have[name] {
				continue
			}
			if _, err := pass.pool.reserve(ctx, name, o, nil); err == nil {
				res.Recorded++
			} else if !errors.Is(err, errTaken) {
				return since, res, err
			}
		}
	}
	return ips.Revision, res, nil
}

func claim(m map[string]owner, name string, o owner, res *RepairResult) {
	if prev, ok := m[name]; ok && prev.uid != o.uid {
		res.Conflicts = append(res.Conflicts, fmt.Sprintf("%s held by %s and %s", name, prev.name, o.name))
		return
	}
	m[name] = o
}

// RunRepair runs Repair at start and every interval until ctx ends.
func (a *Allocator) RunRepair(ctx context.Context, interval time.Duration, logger *zap.Logger) {
	var since int64
	for {
		rev, res, err := a.Repair(ctx, since)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("repair service allocations", zap.Error(err))
		case err == nil:
			since = rev
			if res.Freed > 0 || res.Recorded > 0 {
				logger.Info("repaired service allocations", zap.Int("freed", res.Freed), zap.Int("recorded", res.Recorded))
			}
			for _, c := range res.Conflicts {
				logger.Error("service allocation conflict", zap.String("value", c))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
