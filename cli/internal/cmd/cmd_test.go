package cmd

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/config"
)

func TestFormatError(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{status.Error(codes.NotFound, `pods "x" not found`), `Error from server (NotFound): pods "x" not found`},
		{status.Error(codes.Aborted, `Operation cannot be fulfilled on pods "x": the object has been modified`), `Error from server (Conflict): Operation cannot be fulfilled on pods "x": the object has been modified`},
		{client.StatusError(codes.InvalidArgument, client.ReasonInvalid, `Pod "x" is invalid: spec.containers: Required value`), `Error from server (Invalid): Pod "x" is invalid: spec.containers: Required value`},
		{client.StatusError(codes.InvalidArgument, client.ReasonBadRequest, `unable to parse requirement`), `Error from server (BadRequest): unable to parse requirement`},
		{status.Error(codes.InvalidArgument, `no reason attached`), `Error from server (BadRequest): no reason attached`},
		{errWhen("creating", "web.yaml", status.Error(codes.AlreadyExists, `deployments.apps "web" already exists`)),
			`Error from server (AlreadyExists): error when creating "web.yaml": deployments.apps "web" already exists`},
		{errors.New(`the server doesn't have a resource type "foo"`), `error: the server doesn't have a resource type "foo"`},
	}
	for _, tt := range tests {
		if got := FormatError(tt.err); got != tt.want {
			t.Errorf("FormatError(%v):\n got %s\nwant %s", tt.err, got, tt.want)
		}
	}
}

func TestParseResourceArgs(t *testing.T) {
	type ref struct {
		Res   string
		Names []string
	}
	tests := []struct {
		args    []string
		want    []ref
		wantErr string
	}{
		{args: []string{"po"}, want: []ref{{"pods", nil}}},
		{args: []string{"deploy", "a", "b"}, want: []ref{{"deployments", []string{"a", "b"}}}},
		{args: []string{"svc,ep"}, want: []ref{{"services", nil}, {"endpoints", nil}}},
		{args: []string{"pod/a", "svc/b", "pod/c"}, want: []ref{{"pods", []string{"a", "c"}}, {"services", []string{"b"}}}},
		{args: []string{"cj"}, want: []ref{{"cronjobs", nil}}},
		{args: []string{"foo"}, wantErr: `the server doesn't have a resource type "foo"`},
		{args: []string{"pods", "pod/a"}, wantErr: "there is no need"},
	}
	for _, tt := range tests {
		refs, err := parseResourceArgs(tt.args)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseResourceArgs(%v) err = %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseResourceArgs(%v): %v", tt.args, err)
			continue
		}
		var got []ref
		for _, r := range refs {
			var names []string
			if len(r.names) > 0 {
				names = r.names
			}
			got = append(got, ref{r.res.Name, names})
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("parseResourceArgs(%v) (-want +got):\n%s", tt.args, diff)
		}
	}
}

// run runs gantry with args and returns its output and exit code.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(args, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return out.String(), errOut.String(), code
}

func TestConfigCommands(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config")
	f := config.NewFile("local", config.Cluster{Server: "https://127.0.0.1:6443", CertificateAuthorityData: []byte("secret-ca")},
		config.User{Token: "secret-token"}, "")
	f.Contexts = append(f.Contexts, config.NamedContext{Name: "other", Context: config.Context{Cluster: "local", User: "local", Namespace: "dev"}})
	if err := config.Write(path, f); err != nil {
		t.Fatal(err)
	}
	t.Setenv(config.EnvVar, path)

	out, _, code := run(t, "config", "get-contexts")
	want := "CURRENT   NAME    CLUSTER   AUTHINFO   NAMESPACE\n*         local   local     local      \n          other   local     local      dev\n"
	if code != 0 || out != want {
		t.Errorf("get-contexts: code %d\n got %q\nwant %q", code, out, want)
	}
	out, _, _ = run(t, "config", "view")
	if strings.Contains(out, "secret-token") || !strings.Contains(out, "DATA+OMITTED") {
		t.Errorf("config view shows secrets:\n%s", out)
	}
	if out, _, code = run(t, "config", "use-context", "other"); code != 0 || out != "Switched to context \"other\".\n" {
		t.Errorf("use-context: %d %q", code, out)
	}
	if out, _, code = run(t, "config", "set-context", "--current", "--namespace=prod"); code != 0 || out != "Context \"other\" modified.\n" {
		t.Errorf("set-context: %d %q", code, out)
	}
	got, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if ctx, _ := got.Context("other"); got.CurrentContext != "other" || ctx.Namespace != "prod" {
		t.Errorf("config after commands: current %q, namespace %q", got.CurrentContext, ctx.Namespace)
	}
	if _, errOut, code := run(t, "config", "use-context", "nope"); code != 1 || errOut != "error: no context exists with the name: \"nope\"\n" {
		t.Errorf("use-context nope: %d %q", code, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	_, errOut, code := run(t, "get", "--bogus")
	if code != 1 || errOut != "error: unknown flag: --bogus\nSee 'gantry get --help' for usage.\n" {
		t.Errorf("code %d stderr %q", code, errOut)
	}
	t.Setenv(config.EnvVar, filepath.Join(t.TempDir(), "missing"))
	_, errOut, code = run(t, "get", "foo")
	if code != 1 || errOut != "error: the server doesn't have a resource type \"foo\"\n" {
		t.Errorf("get foo: code %d stderr %q", code, errOut)
	}
}

func TestVersionClient(t *testing.T) {
	out, _, code := run(t, "version", "--client", "-o", "json")
	if code != 0 || !strings.Contains(out, `"clientVersion"`) || strings.Contains(out, "serverVersion") {
		t.Errorf("code %d out %s", code, out)
	}
}

func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, _, code := run(t, "completion", sh)
		if code != 0 || !strings.Contains(out, "gantry") {
			t.Errorf("completion %s: code %d, %d bytes", sh, code, len(out))
		}
	}
}

func TestConfigEditing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := config.Write(path, config.NewFile("local", config.Cluster{Server: "https://127.0.0.1:6443"}, config.User{}, "")); err != nil {
		t.Fatal(err)
	}
	t.Setenv(config.EnvVar, path)
	steps := []struct {
		args []string
		out  string
	}{
		{[]string{"config", "set-cluster", "prod", "--server=https://10.0.0.1:6443", "--insecure-skip-tls-verify"}, "Cluster \"prod\" set.\n"},
		{[]string{"config", "set-credentials", "ops", "--token=t0k"}, "User \"ops\" set.\n"},
		{[]string{"config", "set-context", "prod", "--cluster=prod", "--user=ops", "--namespace=web"}, "Context \"prod\" created.\n"},
		{[]string{"config", "rename-context", "prod", "production"}, "Context \"prod\" renamed to \"production\".\n"},
		{[]string{"config", "get-clusters"}, "NAME\nlocal\nprod\n"},
		{[]string{"config", "get-users"}, "NAME\nlocal\nops\n"},
		{[]string{"config", "use-context", "production"}, "Switched to context \"production\".\n"},
		{[]string{"config", "current-context"}, "production\n"},
		{[]string{"config", "delete-context", "local"}, "deleted context local from " + path + "\n"},
	}
	for _, s := range steps {
		out, errOut, code := run(t, s.args...)
		if code != 0 || out != s.out {
			t.Errorf("%v: code %d\n got %q\nwant %q\nstderr %q", s.args, code, out, s.out, errOut)
		}
	}
	cfg, err := config.Open(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server != "10.0.0.1:6443" || cfg.BearerToken != "t0k" || cfg.Namespace != "web" || cfg.Context != "production" {
		t.Errorf("resolved config: %+v", cfg)
	}
}

func TestOverrideFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	f := config.NewFile("local", config.Cluster{Server: "https://127.0.0.1:6443", InsecureSkipTLSVerify: true}, config.User{Token: "file-token"}, "team")
	if err := config.Write(path, f); err != nil {
		t.Fatal(err)
	}
	t.Setenv(config.EnvVar, path)
	tests := []struct {
		args       []string
		server     string
		token      string
		namespace  string
		plaintext  bool
		wantErrSub string
	}{
		{args: nil, server: "127.0.0.1:6443", token: "file-token", namespace: "team"},
		{args: []string{"--server=https://10.0.0.9:7443"}, server: "10.0.0.9:7443", token: "file-token", namespace: "team"},
		{args: []string{"-s", "http://10.0.0.9:8080", "--token=flag-token"}, server: "10.0.0.9:8080", token: "flag-token", namespace: "team", plaintext: true},
		{args: []string{"--context=nope", "--token=x"}, wantErrSub: `context "nope" not found`},
	}
	for _, tt := range tests {
		root, fac := NewRootCommand(Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
		if err := root.PersistentFlags().Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		cfg, err := fac.Config()
		if tt.wantErrSub != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErrSub) {
				t.Errorf("%v: err %v, want %q", tt.args, err, tt.wantErrSub)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if cfg.Server != tt.server || cfg.BearerToken != tt.token || cfg.Namespace != tt.namespace || cfg.Plaintext != tt.plaintext {
			t.Errorf("%v: got %+v", tt.args, cfg)
		}
	}
	// Without any file, --server alone is enough.
	t.Setenv(config.EnvVar, filepath.Join(t.TempDir(), "missing"))
	root, fac := NewRootCommand(Streams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
	_ = root.PersistentFlags().Parse([]string{"--server=http://127.0.0.1:9"})
	if cfg, err := fac.Config(); err != nil || cfg.Server != "127.0.0.1:9" || cfg.Namespace != "default" {
		t.Errorf("--server without a file: %+v %v", cfg, err)
	}
}

func TestPlugins(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\necho \"plugin $0 args: $*\"\nexit 3\n"
	for _, name := range []string{"gantry-hello", "gantry-hello-world"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, _, code := run(t, "hello", "world", "x", "--flag")
	if code != 3 || out != "plugin "+filepath.Join(dir, "gantry-hello-world")+" args: x --flag\n" {
		t.Errorf("plugin run: code %d out %q", code, out)
	}
	out, _, code = run(t, "hello", "there")
	if code != 3 || out != "plugin "+filepath.Join(dir, "gantry-hello")+" args: there\n" {
		t.Errorf("plugin run: code %d out %q", code, out)
	}
	out, _, code = run(t, "plugin", "list")
	if code != 0 || !strings.Contains(out, filepath.Join(dir, "gantry-hello-world")) {
		t.Errorf("plugin list: %d %q", code, out)
	}
	// A built-in command wins over a plugin.
	if err := os.WriteFile(filepath.Join(dir, "gantry-version"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := run(t, "version", "--client"); !strings.HasPrefix(out, "Client Version: ") {
		t.Errorf("version ran a plugin: %q", out)
	}
	if _, errOut, code := run(t, "nosuchcommand"); code != 1 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errOut)
	}
}

func TestReadSourcesFromURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/deployment.yaml" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: from-url\n"))
	}))
	defer srv.Close()
	o := fileOptions{filenames: []string{srv.URL + "/deployment.yaml"}}
	srcs, err := o.readSources(strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := decodeSource(srcs[0])
	if err != nil || len(ms) != 1 || ms[0].obj.GetMetadata().GetName() != "from-url" {
		t.Fatalf("decoded %v, %v", ms, err)
	}
	o.filenames = []string{srv.URL + "/missing.yaml"}
	if _, err := o.readSources(strings.NewReader("")); err == nil || !strings.Contains(err.Error(), "status code=404") {
		t.Errorf("missing URL: %v", err)
	}
}

func TestContextCompletion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	f := config.NewFile("one", config.Cluster{Server: "https://127.0.0.1:6443"}, config.User{}, "")
	f.Contexts = append(f.Contexts, config.NamedContext{Name: "two", Context: config.Context{Cluster: "one"}})
	if err := config.Write(path, f); err != nil {
		t.Fatal(err)
	}
	t.Setenv(config.EnvVar, path)
	out, _, code := run(t, "__complete", "get", "pods", "--context", "")
	if code != 0 || !strings.HasPrefix(out, "one\ntwo\n:4\n") {
		t.Errorf("--context completion: %d %q", code, out)
	}
}
