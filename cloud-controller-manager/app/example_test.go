package app_test

import (
	"context"

	"github.com/gantryhq/gantry/client/daemon"
	"github.com/gantryhq/gantry/cloud-controller-manager/app"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider"
	"github.com/gantryhq/gantry/cloud-controller-manager/provider/fake"
)

// An out-of-tree provider builds its own cloud-controller-manager: the same
// command, with one more provider to pick with --cloud-provider=mycloud.
func ExampleWithProvider() {
	cmd := app.NewCommand(app.WithProvider(provider.Registration{
		Name: "mycloud",
		New: func(ctx context.Context, cfg provider.Config) (provider.Interface, error) {
			return fake.New(), nil // your provider.Interface here
		},
	}))
	if false { // a real main runs it
		_ = cmd.ExecuteContext(daemon.SignalContext())
	}
}
