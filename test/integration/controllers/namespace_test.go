package controllers

import (
	"context"
	"testing"
	"time"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func TestNamespaceDeletion(t *testing.T) {
	cs, _ := setup(t, HollowOptions{})
	StartCM(t, cs, CMOptions{})
	ctx := context.Background()
	if _, err := cs.Namespaces().Create(ctx, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "tmp"}}); err != nil {
		t.Fatal(err)
	}
	d := newDeployment("web", 3, "img:1")
	d.Metadata.Namespace = "tmp"
	if _, err := cs.Deployments("tmp").Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	svc := &corev1.Service{Metadata: &metav1.ObjectMeta{Name: "web", Namespace: "tmp"},
		Spec: &corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []*corev1.ServicePort{{Port: 80}}}}
	if _, err := cs.Services("tmp").Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "3 endpoints", func(ctx context.Context) (bool, error) {
		ep, err := cs.Endpoints("tmp").Get(ctx, "web")
		return err == nil && len(ep.GetSubsets()) == 1 && len(ep.GetSubsets()[0].GetAddresses()) == 3, nil
	})
	if err := cs.Namespaces().Delete(ctx, "tmp", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "namespace gone", func(ctx context.Context) (bool, error) {
		_, err := cs.Namespaces().Get(ctx, "tmp")
		return client.IsNotFound(err), nil
	})
	for _, res := range []string{"pods", "replicasets", "deployments", "services", "endpoints"} {
		r, err := scheme.Lookup(res)
		if err != nil {
			t.Fatal(err)
		}
		l, err := cs.Resource(r, "tmp").List(ctx, client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Items) != 0 {
			t.Errorf("%d %s left in the deleted namespace", len(l.Items), res)
		}
	}
}
