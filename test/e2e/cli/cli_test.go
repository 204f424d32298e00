package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	"sigs.k8s.io/yaml"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
	"github.com/gantryhq/gantry/test/integration/framework"
)

// result is one run of gantry.
type result struct {
	stdout, stderr string
	code           int
}

// cluster is a running apiserver and the way to run gantry against it.
type cluster struct {
	t      *testing.T
	server *apiservertest.Server
	cs     *client.Clientset
}

func startCluster(t *testing.T) *cluster {
	s := framework.StartAPIServer(t, apiservertest.Options{})
	return &cluster{t: t, server: s, cs: framework.Client(t, s)}
}

// gantry runs the binary with args (and stdin), with the admin config in
// $GANTRY_CONFIG as a user would export it.
func (c *cluster) gantry(stdin string, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, gantryBin, args...)
	cmd.Env = append(os.Environ(), "GANTRY_CONFIG="+c.server.ConfigPath, "HOME="+c.t.TempDir())
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("gantry %v: %v", args, err)
	}
	return r
}

// ok runs gantry and fails the test unless it exits 0.
func (c *cluster) ok(args ...string) result {
	c.t.Helper()
	r := c.gantry("", args...)
	if r.code != 0 {
		c.t.Fatalf("gantry %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(lines)
	return lines
}

func wantLines(t *testing.T, what, got string, want ...string) {
	t.Helper()
	sort.Strings(want)
	g := sortedLines(got)
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n got %q\nwant %q", what, g, want)
	}
}

// fields splits a table into rows of cells (cells are separated by at
// least two spaces... or more exactly: by runs of spaces; no cell in these
// tests holds a space).
func table(s string) [][]string {
	var rows [][]string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

func TestApplyGetDelete(t *testing.T) {
	c := startCluster(t)
	dir := filepath.Join("testdata", "manifests")

	// Apply a directory of documentation-shaped manifests (YAML with
	// several documents, JSON, a subdirectory with -R).
	r := c.ok("apply", "-R", "-f", dir)
	wantLines(t, "first apply", r.stdout,
		"namespace/shop created",
		"cronjob.batch/hello created",
		"pod/frontend created",
		"service/my-nodeport-service created",
		"deployment.apps/nginx-deployment created",
		"service/my-service created",
		"job.batch/pi created",
	)

	// Re-applying changes nothing.
	r = c.ok("apply", "-R", "-f", dir)
	wantLines(t, "second apply", r.stdout,
		"namespace/shop unchanged",
		"cronjob.batch/hello unchanged",
		"pod/frontend unchanged",
		"service/my-nodeport-service unchanged",
		"deployment.apps/nginx-deployment unchanged",
		"service/my-service unchanged",
		"job.batch/pi unchanged",
	)

	t.Run("tables", func(t *testing.T) {
		rows := table(c.ok("get", "deployments").stdout)
		if got := strings.Join(rows[0], " "); got != "NAME READY UP-TO-DATE AVAILABLE AGE" {
			t.Errorf("deployments header %q", got)
		}
		if len(rows) != 2 || rows[1][0] != "nginx-deployment" || rows[1][1] != "0/3" {
			t.Errorf("deployments rows %q", rows)
		}
		rows = table(c.ok("get", "svc", "my-service").stdout)
		if len(rows) != 2 || rows[1][1] != "ClusterIP" || rows[1][3] != "<none>" || rows[1][4] != "80/TCP" {
			t.Errorf("service rows %q", rows)
		}
		rows = table(c.ok("get", "po", "-n", "shop", "-o", "wide").stdout)
		if len(rows) != 2 || rows[1][0] != "frontend" || rows[1][1] != "0/1" || rows[1][2] != "Pending" || rows[1][5] != "<none>" {
			t.Errorf("pod rows %q", rows)
		}
		rows = table(c.ok("get", "svc", "-A").stdout)
		if rows[0][0] != "NAMESPACE" {
			t.Errorf("-A header %q", rows[0])
		}
		var shop []string
		for _, r := range rows[1:] {
			if r[0] == "shop" {
				shop = append(shop, r[1]+" "+r[5])
			}
		}
		if strings.Join(shop, ",") != "my-nodeport-service 80:30007/TCP" {
			t.Errorf("-A shop services %q", shop)
		}
		rows = table(c.ok("get", "jobs,cj").stdout)
		if rows[0][0] != "NAME" || rows[1][0] != "job.batch/pi" || rows[1][1] != "Running" || rows[1][2] != "0/1" {
			t.Errorf("jobs rows %q", rows)
		}
		rows = table(c.ok("get", "ns", "shop", "--no-headers").stdout)
		if len(rows) != 1 || rows[0][0] != "shop" {
			t.Errorf("namespace rows %q", rows)
		}
		out := c.ok("get", "deploy", "--show-labels", "-l", "app=nginx").stdout
		if !strings.Contains(out, "LABELS") || !strings.Contains(out, "app=nginx") {
			t.Errorf("--show-labels:\n%s", out)
		}
		if r := c.ok("get", "pods"); r.stdout != "" || r.stderr != "No resources found in default namespace.\n" {
			t.Errorf("empty get: stdout %q stderr %q", r.stdout, r.stderr)
		}
	})

	t.Run("formats", func(t *testing.T) {
		if got := c.ok("get", "svc", "-o", "name").stdout; got != "service/kubernetes\nservice/my-service\n" && got != "service/my-service\n" {
			t.Errorf("-o name: %q", got)
		}
		var list struct {
			APIVersion string           `json:"apiVersion"`
			Kind       string           `json:"kind"`
			Items      []map[string]any `json:"items"`
		}
		if err := json.Unmarshal([]byte(c.ok("get", "deploy,job", "-o", "json").stdout), &list); err != nil {
			t.Fatal(err)
		}
		if list.Kind != "List" || list.APIVersion != "v1" || len(list.Items) != 2 {
			t.Errorf("-o json of two kinds: %s %s with %d items", list.APIVersion, list.Kind, len(list.Items))
		}
		var one map[string]any
		if err := yaml.Unmarshal([]byte(c.ok("get", "deploy", "nginx-deployment", "-o", "yaml").stdout), &one); err != nil {
			t.Fatal(err)
		}
		if one["kind"] != "Deployment" || one["spec"].(map[string]any)["replicas"] != float64(3) {
			t.Errorf("-o yaml: %v", one)
		}

		if got := c.ok("get", "svc", "my-service", "-o", "jsonpath={.spec.ports[0].port}").stdout; got != "80" {
			t.Errorf("-o jsonpath: %q", got)
		}
		if got := c.ok("get", "deploy,job", "-o", "custom-columns=KIND:.kind,NAME:.metadata.name", "--no-headers").stdout; got != "Deployment   nginx-deployment\nJob          pi\n" {
			t.Errorf("-o custom-columns: %q", got)
		}

		// What -o yaml prints applies again cleanly.
		for _, format := range []string{"yaml", "json"} {
			out := c.ok("get", "deploy", "nginx-deployment", "-o", format).stdout
			r := c.gantry(out, "apply", "-f", "-")
			if r.code != 0 || r.stdout != "deployment.apps/nginx-deployment unchanged\n" {
				t.Errorf("apply of -o %s: exit %d\n%s%s", format, r.code, r.stdout, r.stderr)
			}
		}
	})

	t.Run("configured", func(t *testing.T) {
		src, err := os.ReadFile(filepath.Join(dir, "deployment.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		changed := strings.Replace(string(src), "replicas: 3", "replicas: 5", 1)
		r := c.gantry(changed, "apply", "-f", "-")
		if r.code != 0 {
			t.Fatalf("apply: %d %s", r.code, r.stderr)
		}
		wantLines(t, "apply with replicas changed", r.stdout, "deployment.apps/nginx-deployment configured", "service/my-service unchanged")
		d, err := c.cs.Deployments("default").Get(context.Background(), "nginx-deployment")
		if err != nil {
			t.Fatal(err)
		}
		if d.GetSpec().GetReplicas() != 5 {
			t.Errorf("replicas = %d, want 5", d.GetSpec().GetReplicas())
		}
		svc, err := c.cs.Services("default").Get(context.Background(), "my-service")
		if err != nil {
			t.Fatal(err)
		}
		if svc.GetSpec().GetClusterIp() == "" {
			t.Errorf("apply lost the allocated clusterIP")
		}
	})

	t.Run("configured-keeps-allocated-node-port", func(t *testing.T) {
		np := func(app string) string {
			return "apiVersion: v1\nkind: Service\nmetadata:\n  name: np\nspec:\n  type: NodePort\n  selector:\n    app: " + app +
				"\n  ports:\n  - port: 80\n    targetPort: 8080\n"
		}
		if r := c.gantry(np("a"), "apply", "-f", "-"); r.code != 0 || r.stdout != "service/np created\n" {
			t.Fatalf("apply: %d %q %q", r.code, r.stdout, r.stderr)
		}
		before, err := c.cs.Services("default").Get(context.Background(), "np")
		if err != nil {
			t.Fatal(err)
		}
		if r := c.gantry(np("b"), "apply", "-f", "-"); r.code != 0 || r.stdout != "service/np configured\n" {
			t.Fatalf("apply: %d %q %q", r.code, r.stdout, r.stderr)
		}
		after, err := c.cs.Services("default").Get(context.Background(), "np")
		if err != nil {
			t.Fatal(err)
		}
		if after.GetSpec().GetSelector()["app"] != "b" {
			t.Errorf("selector not changed: %v", after.GetSpec().GetSelector())
		}
		bp, ap := before.GetSpec().GetPorts()[0].GetNodePort(), after.GetSpec().GetPorts()[0].GetNodePort()
		if bp == 0 || bp != ap || before.GetSpec().GetClusterIp() != after.GetSpec().GetClusterIp() {
			t.Errorf("nodePort %d -> %d, clusterIP %s -> %s: apply must keep what the server allocated", bp, ap,
				before.GetSpec().GetClusterIp(), after.GetSpec().GetClusterIp())
		}
		c.ok("delete", "svc", "np")
	})

	t.Run("invalid", func(t *testing.T) {
		r := c.gantry("", "apply", "-f", filepath.Join("testdata", "invalid.yaml"))
		if r.code != 1 || r.stdout != "" {
			t.Errorf("invalid apply: exit %d stdout %q", r.code, r.stdout)
		}
		if !strings.HasPrefix(r.stderr, "Error from server (Invalid): ") || !strings.Contains(r.stderr, "spec.replicas") {
			t.Errorf("invalid apply stderr: %q", r.stderr)
		}
		r = c.gantry("", "get", "deploy", "broken")
		if r.code != 1 || r.stderr != "Error from server (NotFound): deployments.apps \"broken\" not found\n" {
			t.Errorf("get of the invalid object: exit %d stderr %q", r.code, r.stderr)
		}
		r = c.gantry("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: c\n    image: i\n    bogus: 1\n", "apply", "-f", "-")
		if r.code != 1 || !strings.Contains(r.stderr, `unknown field "spec.containers[0].bogus"`) {
			t.Errorf("unknown field: exit %d stderr %q", r.code, r.stderr)
		}
		r = c.gantry("", "get", "foo")
		if r.code != 1 || r.stderr != "error: the server doesn't have a resource type \"foo\"\n" {
			t.Errorf("get foo: exit %d stderr %q", r.code, r.stderr)
		}
		r = c.gantry("", "create", "-f", filepath.Join(dir, "job.json"))
		if r.code != 1 || r.stderr != "Error from server (AlreadyExists): error when creating \"testdata/manifests/job.json\": jobs.batch \"pi\" already exists\n" {
			t.Errorf("create existing: exit %d stderr %q", r.code, r.stderr)
		}
	})

	t.Run("modify", func(t *testing.T) {
		if got := c.ok("scale", "deploy/nginx-deployment", "--replicas=2").stdout; got != "deployment.apps/nginx-deployment scaled\n" {
			t.Errorf("scale: %q", got)
		}
		if got := c.ok("label", "deploy", "nginx-deployment", "tier=web").stdout; got != "deployment.apps/nginx-deployment labeled\n" {
			t.Errorf("label: %q", got)
		}
		r := c.gantry("", "label", "deploy", "nginx-deployment", "tier=db")
		if r.code != 1 || r.stderr != "error: 'tier' already has a value (web), and --overwrite is false\n" {
			t.Errorf("label without --overwrite: %d %q", r.code, r.stderr)
		}
		c.ok("label", "deploy", "nginx-deployment", "tier=db", "--overwrite")
		c.ok("annotate", "deploy", "nginx-deployment", "note=hello")
		d, err := c.cs.Deployments("default").Get(context.Background(), "nginx-deployment")
		if err != nil {
			t.Fatal(err)
		}
		if d.GetSpec().GetReplicas() != 2 || d.GetMetadata().GetLabels()["tier"] != "db" || d.GetMetadata().GetAnnotations()["note"] != "hello" {
			t.Errorf("after scale/label/annotate: replicas %d labels %v annotations %v", d.GetSpec().GetReplicas(), d.GetMetadata().GetLabels(), d.GetMetadata().GetAnnotations())
		}
		if got := c.ok("label", "deploy", "nginx-deployment", "tier-").stdout; got != "deployment.apps/nginx-deployment unlabeled\n" {
			t.Errorf("unlabel: %q", got)
		}
		// An event about the deployment shows in describe (found by a
		// field selector on involvedObject) and in `events`.
		d, err = c.cs.Deployments("default").Get(context.Background(), "nginx-deployment")
		if err != nil {
			t.Fatal(err)
		}
		now := timestamppb.Now()
		_, err = c.cs.Events("default").Create(context.Background(), &corev1.Event{
			Metadata:       &metav1.ObjectMeta{Name: "nginx-deployment.e2e", Namespace: "default"},
			InvolvedObject: &corev1.ObjectReference{Kind: "Deployment", Name: "nginx-deployment", Namespace: "default", Uid: d.GetMetadata().GetUid(), ApiVersion: "apps/v1"},
			Reason:         "ScalingReplicaSet", Message: "Scaled up replica set nginx-deployment-abc to 2", Type: "Normal",
			Source: &corev1.EventSource{Component: "deployment-controller"}, FirstTimestamp: now, LastTimestamp: now, Count: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		rows := table(c.ok("events").stdout)
		if len(rows) != 2 || strings.Join(rows[0], " ") != "LAST SEEN TYPE REASON OBJECT MESSAGE" || rows[1][2] != "ScalingReplicaSet" || rows[1][3] != "deployment/nginx-deployment" {
			t.Errorf("events: %q", rows)
		}
		out := c.ok("describe", "deploy", "nginx-deployment").stdout
		for _, want := range []string{"Name:", "nginx-deployment", "Replicas:", "2 desired", "StrategyType:", "Events:",
			"Type    Reason", "Normal  ScalingReplicaSet", "deployment-controller  Scaled up replica set nginx-deployment-abc to 2"} {
			if !strings.Contains(out, want) {
				t.Errorf("describe lacks %q:\n%s", want, out)
			}
		}
		if got := c.ok("patch", "deploy", "nginx-deployment", "-p", `{"spec":{"minReadySeconds":5}}`).stdout; got != "deployment.apps/nginx-deployment patched\n" {
			t.Errorf("patch: %q", got)
		}
		if got := c.ok("wait", "--for=jsonpath={.spec.minReadySeconds}=5", "deploy/nginx-deployment", "--timeout=10s").stdout; got != "deployment.apps/nginx-deployment condition met\n" {
			t.Errorf("wait: %q", got)
		}
		if got := c.ok("rollout", "pause", "deployment/nginx-deployment").stdout; got != "deployment.apps/nginx-deployment paused\n" {
			t.Errorf("rollout pause: %q", got)
		}
		r = c.gantry("", "rollout", "pause", "deployment/nginx-deployment")
		if r.code != 1 || r.stderr != "error: deployments.apps \"nginx-deployment\" is already paused\n" {
			t.Errorf("rollout pause again: %d %q", r.code, r.stderr)
		}
		c.ok("rollout", "resume", "deployment/nginx-deployment")
		if got := c.ok("rollout", "restart", "deployment", "nginx-deployment").stdout; got != "deployment.apps/nginx-deployment restarted\n" {
			t.Errorf("rollout restart: %q", got)
		}
		if got := c.ok("rollout", "status", "deployment/nginx-deployment", "--watch=false").stdout; !strings.HasPrefix(got, "Waiting for deployment") {
			t.Errorf("rollout status without a controller-manager: %q", got)
		}
		// No controller-manager runs here, so no revision has been recorded.
		r = c.gantry("", "rollout", "status", "deployment/nginx-deployment", "--revision=3")
		if r.code != 1 || !strings.Contains(r.stderr, "desired revision (3) is different from the running revision (0)") {
			t.Errorf("rollout status --revision=3: %d %q", r.code, r.stderr)
		}
		out = c.ok("version").stdout
		if !strings.Contains(out, "Client Version: ") || !strings.Contains(out, "Server Version: ") {
			t.Errorf("version: %q", out)
		}
	})

	t.Run("watch-and-delete", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		w := exec.CommandContext(ctx, gantryBin, "get", "svc", "my-service", "-w")
		w.Env = append(os.Environ(), "GANTRY_CONFIG="+c.server.ConfigPath)
		stdout, err := w.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = w.Process.Kill(); _ = w.Wait() }()
		lines := make(chan string, 16)
		go func() {
			s := bufio.NewScanner(stdout)
			for s.Scan() {
				lines <- s.Text()
			}
			close(lines)
		}()
		next := func() string {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("watch ended")
				}
				return l
			case <-ctx.Done():
				t.Fatalf("no line from get -w")
			}
			return ""
		}
		if h := next(); !strings.HasPrefix(h, "NAME") {
			t.Fatalf("watch header %q", h)
		}
		if l := next(); !strings.HasPrefix(l, "my-service ") {
			t.Fatalf("watch first row %q", l)
		}
		c.ok("label", "svc", "my-service", "seen=yes")
		if l := next(); !strings.HasPrefix(l, "my-service ") {
			t.Fatalf("watch row after label %q", l)
		}

		// delete -f with --wait returns when the objects are gone.
		r := c.ok("delete", "-f", filepath.Join(dir, "deployment.yaml"), "--wait")
		wantLines(t, "delete", r.stdout, `deployment.apps "nginx-deployment" deleted`, `service "my-service" deleted`)
		if l := next(); !strings.HasPrefix(l, "my-service ") {
			t.Fatalf("watch row after delete %q", l)
		}
		if _, err := c.cs.Services("default").Get(context.Background(), "my-service"); !client.IsNotFound(err) {
			t.Errorf("service after delete --wait: %v", err)
		}
		r = c.gantry("", "delete", "svc", "my-service")
		if r.code != 1 || r.stderr != "Error from server (NotFound): services \"my-service\" not found\n" {
			t.Errorf("delete again: %d %q", r.code, r.stderr)
		}
		c.ok("delete", "svc", "my-service", "--ignore-not-found")
		r = c.ok("delete", "pods", "-n", "shop", "-l", "app=frontend", "--grace-period=0", "--force")
		if r.stdout != "pod \"frontend\" force deleted\n" {
			t.Errorf("delete -l: %q", r.stdout)
		}
	})
}
