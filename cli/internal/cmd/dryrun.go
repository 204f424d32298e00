package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
)

// dryRun is --dry-run: none, client (nothing is sent) or server (the
// apiserver validates and defaults, and stores nothing).
type dryRun string

const (
	dryRunNone   dryRun = "none"
	dryRunClient dryRun = "client"
	dryRunServer dryRun = "server"
)

func addDryRunFlag(c *cobra.Command, v *string) {
	c.Flags().StringVar(v, "dry-run", "none", `Must be "none", "server", or "client". If client strategy, only print the object that would be sent, without sending it. If server strategy, submit server-side request without persisting the resource.`)
	c.Flags().Lookup("dry-run").NoOptDefVal = "unchanged"
}

func parseDryRun(s string) (dryRun, error) {
	switch s {
	case "", "none", "false":
		return dryRunNone, nil
	case "client", "unchanged", "true":
		return dryRunClient, nil
	case "server":
		return dryRunServer, nil
	}
	return "", fmt.Errorf(`Invalid dry-run value (%v). Must be "none", "server", or "client".`, s)
}

// suffix is what kubectl adds to "created" and the like.
func (d dryRun) suffix() string {
	switch d {
	case dryRunClient:
		return " (dry run)"
	case dryRunServer:
		return " (server dry run)"
	}
	return ""
}

// createObject creates obj, or pretends to.
func createObject(ctx context.Context, cs *client.Clientset, res *scheme.Resource, obj scheme.Object, d dryRun) (scheme.Object, error) {
	switch d {
	case dryRunClient:
		return obj, nil
	case dryRunServer:
		a, err := anypb.New(obj)
		if err != nil {
			return nil, err
		}
		resp, err := cs.ResourceService().Create(ctx, &apiv1.CreateRequest{Object: a, DryRun: true})
		if err != nil {
			return nil, err
		}
		return decodeAny(resp.GetObject())
	}
	return cs.Resource(res, obj.GetMetadata().GetNamespace()).Create(ctx, obj)
}

// updateObject updates obj, or pretends to.
func updateObject(ctx context.Context, cs *client.Clientset, res *scheme.Resource, obj scheme.Object, d dryRun) (scheme.Object, error) {
	switch d {
	case dryRunClient:
		return obj, nil
	case dryRunServer:
		a, err := anypb.New(obj)
		if err != nil {
			return nil, err
		}
		resp, err := cs.ResourceService().Update(ctx, &apiv1.UpdateRequest{Object: a, DryRun: true})
		if err != nil {
			return nil, err
		}
		return decodeAny(resp.GetObject())
	}
	return cs.Resource(res, obj.GetMetadata().GetNamespace()).Update(ctx, obj)
}

func decodeAny(a *anypb.Any) (scheme.Object, error) {
	m, err := a.UnmarshalNew()
	if err != nil {
		return nil, err
	}
	obj, ok := m.(scheme.Object)
	if !ok {
		return nil, fmt.Errorf("the server sent a %T, not an object", m)
	}
	return obj, nil
}
