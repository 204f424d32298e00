package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCopyArg(t *testing.T) {
	tests := map[string]podPath{
		"/tmp/a":         {path: "/tmp/a"},
		"./x:y":          {path: "./x:y"},
		"web:/etc/hosts": {pod: "web", path: "/etc/hosts"},
		"ns1/web:/tmp":   {namespace: "ns1", pod: "web", path: "/tmp"},
		"local.txt":      {path: "local.txt"},
	}
	for in, want := range tests {
		if got := parseCopyArg(in); got != want {
			t.Errorf("parseCopyArg(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestTarRoundTrip(t *testing.T) {
	src := t.TempDir()
	files := map[string]string{"a.txt": "alpha", "sub/b.txt": "beta", "sub/deeper/c": "gamma"}
	for name, content := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := tarPath(&buf, src, "data"); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy")
	if err := untar(bytes.NewReader(buf.Bytes()), "data", dst); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	err := filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dst, p)
		got[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(files, got); diff != "" {
		t.Errorf("copied tree (-want +got):\n%s", diff)
	}

	// One file.
	buf.Reset()
	if err := tarPath(&buf, filepath.Join(src, "a.txt"), "renamed.txt"); err != nil {
		t.Fatal(err)
	}
	one := filepath.Join(t.TempDir(), "out.txt")
	if err := untar(&buf, "renamed.txt", one); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(one); string(b) != "alpha" {
		t.Errorf("single file copy = %q", b)
	}
}
