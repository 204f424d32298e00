package app

import (
	"context"
	"fmt"
	"time"

	"github.com/gantryhq/gantry/apiserver/internal/registry"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

// SystemNamespaces exist from the first start on.
var SystemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// bootstrap creates the system namespaces that are missing.
func bootstrap(ctx context.Context, reg *registry.Registry) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, name := range SystemNamespaces {
		_, err := reg.Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: name}}, false)
		if err != nil && registry.ReasonOf(err) != registry.ReasonAlreadyExists {
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
	}
	return nil
}
