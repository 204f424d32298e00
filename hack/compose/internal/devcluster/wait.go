package devcluster

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gantryhq/gantry/client"
)

// Poll calls check every interval until it reports done, or until ctx ends.
// Each check gets at most 5 seconds. progress (may be nil) hears what check
// reports whenever it changes, so a slow start says what it waits for; an
// error from check is reported as progress and retried (the apiserver may
// still be starting).
func Poll(ctx context.Context, interval time.Duration, progress func(string), check func(ctx context.Context) (bool, string, error)) error {
	last := ""
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		done, msg, err := check(cctx)
		cancel()
		if err != nil {
			msg = err.Error()
		}
		if done {
			return nil
		}
		if msg != last {
			if progress != nil {
				progress(msg)
			}
			last = msg
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %s)", ctx.Err(), last)
		case <-time.After(interval):
		}
	}
}

// WaitNodes waits until at least want nodes are Ready with a heartbeat at or
// after since, and returns the Ready nodes' names.
func WaitNodes(ctx context.Context, cs *client.Clientset, want int, since time.Time, interval time.Duration, progress func(string)) ([]string, error) {
	var ready []string
	err := Poll(ctx, interval, progress, func(ctx context.Context) (bool, string, error) {
		list, err := cs.Nodes().List(ctx, client.ListOptions{})
		if err != nil {
			return false, "", err
		}
		ok, r, notReady := NodesReady(list.Items, want, since)
		ready = r
		return ok, fmt.Sprintf("%d/%d Ready (ready: %s; not ready: %s)", len(r), want, orNone(r), orNone(notReady)), nil
	})
	return ready, err
}

// WaitDeployment waits until the Deployment has every replica updated and
// available.
func WaitDeployment(ctx context.Context, cs *client.Clientset, namespace, name string, interval time.Duration, progress func(string)) error {
	return Poll(ctx, interval, progress, func(ctx context.Context) (bool, string, error) {
		d, err := cs.Deployments(namespace).Get(ctx, name)
		if err != nil {
			return false, "", err
		}
		ok, msg := DeploymentAvailable(d)
		return ok, msg, nil
	})
}

// WaitLoadBalancer waits until the Service's status names a load balancer
// address and returns "host:port" for each of its ports.
func WaitLoadBalancer(ctx context.Context, cs *client.Clientset, namespace, name string, interval time.Duration, progress func(string)) ([]string, error) {
	var addrs []string
	err := Poll(ctx, interval, progress, func(ctx context.Context) (bool, string, error) {
		svc, err := cs.Services(namespace).Get(ctx, name)
		if err != nil {
			return false, "", err
		}
		addrs = LoadBalancerAddresses(svc)
		return len(addrs) > 0, "no ingress address yet", nil
	})
	return addrs, err
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
