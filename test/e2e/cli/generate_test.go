package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGeneratorsDiffEdit covers the commands that make objects from flags
// (create deployment|namespace|service|job|cronjob, run, expose), dry runs,
// diff and edit.
func TestGeneratorsDiffEdit(t *testing.T) {
	c := startCluster(t)
	ctx := context.Background()

	// A client dry run prints the object and stores nothing.
	r := c.ok("create", "deployment", "web", "--image=nginx:1.25", "--replicas=2", "--port=80", "--dry-run=client", "-o", "yaml")
	if !strings.Contains(r.stdout, "kind: Deployment") || !strings.Contains(r.stdout, "replicas: 2") || !strings.Contains(r.stdout, "name: nginx") {
		t.Errorf("dry-run yaml:\n%s", r.stdout)
	}
	if _, err := c.cs.Deployments("default").Get(ctx, "web"); err == nil {
		t.Fatal("a client dry run stored the deployment")
	}
	// Its output applies as it is.
	if r := c.gantry(r.stdout, "apply", "-f", "-"); r.code != 0 || r.stdout != "deployment.apps/web created\n" {
		t.Fatalf("apply of the dry-run output: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if got := c.ok("expose", "deployment", "web", "--port=80", "--target-port=8080").stdout; got != "service/web exposed\n" {
		t.Errorf("expose: %q", got)
	}
	svc, err := c.cs.Services("default").Get(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if svc.GetSpec().GetSelector()["app"] != "web" || svc.GetSpec().GetPorts()[0].GetTargetPort().GetIntVal() != 8080 {
		t.Errorf("exposed service: %v", svc.GetSpec())
	}
	for _, args := range [][]string{
		{"create", "namespace", "dev"},
		{"create", "cronjob", "tick", "--image=busybox:1.28", "--schedule=*/5 * * * *", "--", "date"},
		{"create", "job", "once", "--from=cronjob/tick"},
		{"create", "service", "nodeport", "np", "--tcp=80:8080"},
		{"run", "bb", "--image=busybox:1.28", "--restart=Never", "--", "sleep", "3600"},
	} {
		if r := c.gantry("", args...); r.code != 0 || !strings.HasSuffix(r.stdout, " created\n") {
			t.Errorf("gantry %v: %d %q %q", args, r.code, r.stdout, r.stderr)
		}
	}
	pod, err := c.cs.Pods("default").Get(ctx, "bb")
	if err != nil {
		t.Fatal(err)
	}
	if ct := pod.GetSpec().GetContainers()[0]; strings.Join(ct.GetArgs(), " ") != "sleep 3600" || pod.GetSpec().GetRestartPolicy() != "Never" {
		t.Errorf("run made %v", pod.GetSpec())
	}

	// A server dry run validates: an invalid one fails, a valid one stores nothing.
	r = c.gantry("", "create", "deployment", "Bad_Name", "--image=x", "--dry-run=server")
	if r.code != 1 || !strings.Contains(r.stderr, "Error from server (Invalid)") {
		t.Errorf("server dry run of an invalid name: %d %q", r.code, r.stderr)
	}
	if got := c.ok("create", "namespace", "staging", "--dry-run=server").stdout; got != "namespace/staging created (server dry run)\n" {
		t.Errorf("server dry run: %q", got)
	}
	if _, err := c.cs.Namespaces().Get(ctx, "staging"); err == nil {
		t.Error("a server dry run stored the namespace")
	}
	// As in Kubernetes, a server dry run shows the values the apiserver
	// would allocate, without holding them.
	dry := c.ok("create", "service", "nodeport", "dry", "--tcp=80:8080", "--dry-run=server", "-o", "yaml").stdout
	if !regexp.MustCompile(`(?m)^  clusterIP: \d+\.\d+\.\d+\.\d+$`).MatchString(dry) || !regexp.MustCompile(`(?m)^    nodePort: 3\d{4}$`).MatchString(dry) {
		t.Errorf("server dry run of a NodePort service allocated no clusterIP or nodePort:\n%s", dry)
	}
	if _, err := c.cs.Services("default").Get(ctx, "dry"); err == nil {
		t.Error("a server dry run stored the service")
	}

	// diff: nothing to show for what is applied, a diff (exit 1) for a change.
	dir := t.TempDir()
	manifest := filepath.Join(dir, "web.yaml")
	live := c.ok("get", "deploy", "web", "-o", "yaml").stdout
	if err := os.WriteFile(manifest, []byte(live), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := c.gantry("", "diff", "-f", manifest); r.code != 0 || r.stdout != "" {
		t.Errorf("diff of the live object: %d %q %q", r.code, r.stdout, r.stderr)
	}
	changed := strings.Replace(live, "replicas: 2", "replicas: 4", 1)
	r = c.gantry(changed, "diff", "-f", "-")
	if r.code != 1 || !strings.Contains(r.stdout, "-  replicas: 2") || !strings.Contains(r.stdout, "+  replicas: 4") {
		t.Errorf("diff of a change: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if d, _ := c.cs.Deployments("default").Get(ctx, "web"); d.GetSpec().GetReplicas() != 2 {
		t.Errorf("diff changed the deployment")
	}

	// edit runs $EDITOR on the object's YAML and writes the result back.
	editor := filepath.Join(dir, "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's/^  replicas: .*/  replicas: 3/' \"$1\"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gantryBin, "edit", "deployment/web")
	cmd.Env = append(os.Environ(), "GANTRY_CONFIG="+c.server.ConfigPath, "EDITOR="+editor)
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "deployment.apps/web edited\n" {
		t.Fatalf("edit: %v %q", err, out)
	}
	if d, _ := c.cs.Deployments("default").Get(ctx, "web"); d.GetSpec().GetReplicas() != 3 {
		t.Errorf("replicas after edit = %d, want 3", d.GetSpec().GetReplicas())
	}

	// set image and set env change the pod template.
	if got := c.ok("set", "image", "deployment/web", "nginx=nginx:1.26").stdout; got != "deployment.apps/web image updated\n" {
		t.Errorf("set image: %q", got)
	}
	if got := c.ok("set", "env", "deployment/web", "MODE=prod").stdout; got != "deployment.apps/web env updated\n" {
		t.Errorf("set env: %q", got)
	}
	if got := c.ok("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[0].value}").stdout; got != "nginx:1.26 prod" {
		t.Errorf("after set: %q", got)
	}
	// replace writes the manifest's spec; --force deletes and creates.
	svcYAML := c.ok("get", "svc", "web", "-o", "yaml").stdout
	r = c.gantry(strings.Replace(svcYAML, "sessionAffinity: None", "sessionAffinity: ClientIP", 1), "replace", "-f", "-")
	if r.code != 0 || r.stdout != "service/web replaced\n" {
		t.Errorf("replace: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if s, _ := c.cs.Services("default").Get(ctx, "web"); s.GetSpec().GetSessionAffinity() != "ClientIP" {
		t.Errorf("sessionAffinity after replace = %q", s.GetSpec().GetSessionAffinity())
	}
	r = c.gantry(svcYAML, "replace", "-f", "-")
	if r.code != 1 || !strings.Contains(r.stderr, "Error from server (Conflict)") {
		t.Errorf("replace with a stale resourceVersion: %d %q", r.code, r.stderr)
	}
	before, _ := c.cs.Services("default").Get(ctx, "web")
	r = c.gantry(svcYAML, "replace", "--force", "-f", "-")
	if r.code != 0 || r.stdout != "service \"web\" deleted\nservice/web replaced\n" {
		t.Errorf("replace --force: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if after, _ := c.cs.Services("default").Get(ctx, "web"); after.GetMetadata().GetUid() == before.GetMetadata().GetUid() ||
		after.GetSpec().GetSessionAffinity() != "None" {
		t.Errorf("after replace --force: uid %s (was %s), sessionAffinity %q", after.GetMetadata().GetUid(), before.GetMetadata().GetUid(), after.GetSpec().GetSessionAffinity())
	}

	// A strategic merge patch merges containers by name.
	c.ok("patch", "deployment", "web", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}`)
	if got := c.ok("get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[0].value}").stdout; got != "nginx:1.27 prod" {
		t.Errorf("after patch: %q", got)
	}
}
