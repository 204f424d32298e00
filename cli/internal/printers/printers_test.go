package printers

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gantryhq/gantry/client/codec"
	"github.com/gantryhq/gantry/client/scheme"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/<name>.golden (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func mustResource(t *testing.T, name string) *scheme.Resource {
	t.Helper()
	r, err := scheme.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var fixtures = map[string]func() []scheme.Object{
	"pods":        pods,
	"deployments": deployments,
	"replicasets": replicaSets,
	"nodes":       nodes,
	"services":    services,
	"endpoints":   endpoints,
	"jobs":        jobs,
	"cronjobs":    cronJobs,
	"namespaces":  namespaces,
	"events":      events,
	"leases":      leases,
}

func TestTables(t *testing.T) {
	variants := []struct {
		name   string
		format string
		opts   TableOptions
	}{
		{name: "table"},
		{name: "wide", format: "wide"},
		{name: "all-namespaces-labels", opts: TableOptions{WithNamespace: true, ShowLabels: true}},
		{name: "no-headers", opts: TableOptions{NoHeaders: true}},
		{name: "with-kind", opts: TableOptions{WithKind: true}},
	}
	for res, objs := range fixtures {
		for _, v := range variants {
			t.Run(res+"/"+v.name, func(t *testing.T) {
				var buf bytes.Buffer
				opts := v.opts
				opts.Now = fixedNow
				p, err := NewPrinter(&buf, mustResource(t, res), v.format, opts)
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Print(objs(), true); err != nil {
					t.Fatal(err)
				}
				golden(t, res+"-"+v.name, buf.String())
			})
		}
	}
}

func TestEventCounts(t *testing.T) {
	var buf bytes.Buffer
	p, err := NewPrinter(&buf, mustResource(t, "events"), "", TableOptions{Now: fixedNow, EventCounts: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Print(events(), true); err != nil {
		t.Fatal(err)
	}
	golden(t, "events-counts", buf.String())
}

func TestStructured(t *testing.T) {
	for _, format := range []string{"yaml", "json", "name"} {
		for _, res := range []string{"deployments", "services", "pods"} {
			t.Run(format+"/"+res+"/list", func(t *testing.T) {
				var buf bytes.Buffer
				p, err := NewPrinter(&buf, mustResource(t, res), format, TableOptions{})
				if err != nil {
					t.Fatal(err)
				}
				objs := fixtures[res]()
				if err := p.Print(objs[:min(2, len(objs))], true); err != nil {
					t.Fatal(err)
				}
				golden(t, res+"-list."+format, buf.String())
			})
		}
		t.Run(format+"/single", func(t *testing.T) {
			var buf bytes.Buffer
			p, err := NewPrinter(&buf, mustResource(t, "deployments"), format, TableOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Print(deployments(), false); err != nil {
				t.Fatal(err)
			}
			golden(t, "deployment-single."+format, buf.String())
		})
	}
}

// TestStructuredRoundTrip: what -o yaml and -o json write decodes back to
// the same objects, so that it can be applied again.
func TestStructuredRoundTrip(t *testing.T) {
	for res, objs := range fixtures {
		for _, format := range []string{"yaml", "json"} {
			t.Run(res+"/"+format, func(t *testing.T) {
				var buf bytes.Buffer
				want := objs()
				p, _ := NewPrinter(&buf, mustResource(t, res), format, TableOptions{})
				if err := p.Print(want, true); err != nil {
					t.Fatal(err)
				}
				got, err := codec.DecodeManifests(&buf)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("decoded %d objects, want %d", len(got), len(want))
				}
				for i := range want {
					a, _ := codec.Marshal(want[i])
					b, _ := codec.Marshal(got[i])
					if diff := cmp.Diff(string(a), string(b)); diff != "" {
						t.Errorf("object %d (-want +got):\n%s", i, diff)
					}
				}
			})
		}
	}
}

func TestWatchRowsKeepWidths(t *testing.T) {
	var buf bytes.Buffer
	p, _ := NewPrinter(&buf, mustResource(t, "pods"), "", TableOptions{Now: fixedNow})
	all := pods()
	if err := p.Print(all[:4], true); err != nil {
		t.Fatal(err)
	}
	// The same pods changing: rows line up under the first block's header.
	for _, o := range all[:4] {
		if err := p.PrintWatched(o); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 9 {
		t.Fatalf("got %d lines, want 9:\n%s", len(lines), buf.String())
	}
	// READY starts in the same column on every line.
	col := strings.Index(lines[0], "READY")
	for _, l := range lines[1:] {
		if l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("row %q: READY not at column %d", l, col)
		}
	}
	golden(t, "pods-watch", buf.String())
}

func TestPodStatus(t *testing.T) {
	want := map[string]string{
		"web-running":  "Running",
		"web-creating": "ContainerCreating",
		"web-crash":    "CrashLoopBackOff",
		"web-pull":     "ImagePullBackOff",
		"job-done":     "Completed",
		"web-stopping": "Terminating",
		"web-init":     "Init:0/1",
		"web-pending":  "Pending",
	}
	for _, o := range pods() {
		name := o.GetMetadata().GetName()
		w, ok := want[name]
		if !ok {
			continue
		}
		if got := PodStatus(o.(*corev1.Pod)); got != w {
			t.Errorf("PodStatus(%s) = %q, want %q", name, got, w)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	_, err := NewPrinter(&bytes.Buffer{}, mustResource(t, "pods"), "xml", TableOptions{})
	if err == nil || !strings.Contains(err.Error(), `output format "xml"`) {
		t.Fatalf("err = %v, want the unknown format named", err)
	}
}

func TestJSONPathAndCustomColumns(t *testing.T) {
	tests := []struct {
		name   string
		res    string
		format string
		asList bool
		want   string
	}{
		{"jsonpath-items", "pods", "jsonpath={.items[*].metadata.name}", true,
			"web-running web-creating web-crash web-pull job-done web-stopping web-init web-pending other-ns"},
		{"jsonpath-range", "services", `jsonpath={range .items[*]}{.metadata.name}{"\t"}{.spec.clusterIP}{"\n"}{end}`, true,
			"kubernetes\t10.96.0.1\nmy-service\t10.96.12.7\nmy-nodeport-service\t10.96.99.1\nmy-lb\t10.96.50.2\nmy-lb-pending\t10.96.50.3\nheadless\tNone\nexternal\t\n"},
		{"jsonpath-single", "deployments", "jsonpath={.spec.replicas}", false, "3"},
		{"jsonpath-filter", "nodes", `jsonpath={.items[?(@.spec.unschedulable==true)].metadata.name}`, true, "node-2"},
		{"custom-columns", "pods", "custom-columns=NAME:.metadata.name,NODE:.spec.nodeName,IMAGES:.spec.containers[*].image", true,
			"NAME           NODE     IMAGES\nweb-running    node-1   nginx:1.25\nweb-creating   node-2   nginx:1.25\nweb-crash      node-1   nginx:1.25\nweb-pull       node-1   nginx:1.25\njob-done       node-2   nginx:1.25\nweb-stopping   node-2   nginx:1.25\nweb-init       node-1   nginx:1.25\nweb-pending    <none>   nginx:1.25\nother-ns       node-1   nginx:1.25\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p, err := NewPrinter(&buf, mustResource(t, tt.res), tt.format, TableOptions{})
			if err != nil {
				t.Fatal(err)
			}
			objs := fixtures[tt.res]()
			if err := p.Print(objs, tt.asList); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, buf.String()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSortBy(t *testing.T) {
	objs := services()
	if err := SortBy(objs, ".spec.ports[0].port"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.GetMetadata().GetName())
	}
	// Services without ports first (in their order), then by port number.
	want := []string{"headless", "external", "my-service", "my-nodeport-service", "my-lb", "my-lb-pending", "kubernetes"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sorted by port (-want +got):\n%s", diff)
	}
	if err := SortBy(objs, "{.metadata.name}"); err != nil {
		t.Fatal(err)
	}
	if n := objs[0].GetMetadata().GetName(); n != "external" {
		t.Errorf("first by name = %q", n)
	}
}

func TestWatchEvents(t *testing.T) {
	var buf bytes.Buffer
	p, _ := NewPrinter(&buf, mustResource(t, "pods"), "", TableOptions{Now: fixedNow})
	all := pods()
	for i, ev := range []string{"ADDED", "MODIFIED", "DELETED"} {
		if err := p.PrintWatchEvent(ev, all[i]); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "pods-watch-events", buf.String())

	buf.Reset()
	p, _ = NewPrinter(&buf, mustResource(t, "deployments"), "json", TableOptions{})
	if err := p.PrintWatchEvent("ADDED", deployments()[0]); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "{\n    \"object\": {\n        \"apiVersion\": \"apps/v1\"") || !strings.Contains(buf.String(), `"type": "ADDED"`) {
		t.Errorf("json watch event:\n%s", buf.String())
	}
}

func TestLabelColumns(t *testing.T) {
	var buf bytes.Buffer
	p, _ := NewPrinter(&buf, mustResource(t, "replicasets"), "", TableOptions{Now: fixedNow, LabelColumns: []string{"app", "example.com/pod-template-hash", "pod-template-hash"}})
	if err := p.Print(replicaSets(), true); err != nil {
		t.Fatal(err)
	}
	want := "NAME                          DESIRED   CURRENT   READY   AGE   APP     POD-TEMPLATE-HASH   POD-TEMPLATE-HASH\n" +
		"nginx-deployment-66b6c48dd5   3         3         1       90s   nginx                       66b6c48dd5\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGoTemplateAndFiles(t *testing.T) {
	var buf bytes.Buffer
	p, err := NewPrinter(&buf, mustResource(t, "services"), `go-template={{range .items}}{{.metadata.name}}{{if exists . "spec" "clusterIP"}}={{.spec.clusterIP}}{{end}} {{end}}`, TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Print(services(), true); err != nil {
		t.Fatal(err)
	}
	want := "kubernetes=10.96.0.1 my-service=10.96.12.7 my-nodeport-service=10.96.99.1 my-lb=10.96.50.2 my-lb-pending=10.96.50.3 headless=None external "
	if buf.String() != want {
		t.Errorf("go-template:\n got %q\nwant %q", buf.String(), want)
	}

	dir := t.TempDir()
	cols := filepath.Join(dir, "cols")
	if err := os.WriteFile(cols, []byte("NAME   TYPE\n.metadata.name   .spec.type\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	p, err = NewPrinter(&buf, mustResource(t, "services"), "custom-columns-file="+cols, TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Print(services()[:2], true); err != nil {
		t.Fatal(err)
	}
	if want := "NAME         TYPE\nkubernetes   ClusterIP\nmy-service   ClusterIP\n"; buf.String() != want {
		t.Errorf("custom-columns-file:\n got %q\nwant %q", buf.String(), want)
	}
	jp := filepath.Join(dir, "jp")
	if err := os.WriteFile(jp, []byte("{.metadata.name}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	p, err = NewPrinter(&buf, mustResource(t, "services"), "jsonpath-file="+jp, TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Print(services()[:1], false); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "kubernetes" {
		t.Errorf("jsonpath-file: %q", buf.String())
	}
}
