package codec

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// FuzzDecode feeds arbitrary manifests to the decoders. Nothing may panic,
// and whatever decodes must encode and decode again to the same message.
// Run it with: go test ./codec -run '^$' -fuzz FuzzDecode -fuzztime 1m
func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	golden, err := filepath.Glob(filepath.Join("testdata", "*.golden.json"))
	if err != nil {
		f.Fatal(err)
	}
	files = append(files, golden...)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}]}`,
		`{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"a":"\u00e9\ud83d\ude00"}}} {"apiVersion":"v1","kind":"Namespace"}`,
		`{"apiVersion":"v1","kind":"Service","spec":{"ports":[{"targetPort":-1},{"targetPort":""}]}}`,
		"apiVersion: v1\nkind: Node\nstatus:\n  capacity:\n    cpu: 1e3\n    memory: -0.5\n---\n# c\n",
		`{"object":{"apiVersion":"v1","kind":"Pod","spec":{"nodeName":"n"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// These must only not panic.
		_ = Unmarshal(data, &corev1.Pod{})
		_ = Unmarshal(data, &appsv1.Deployment{})
		if r := (&apiv1.WatchResponse{}); Unmarshal(data, r) == nil {
			roundTrip(t, r, func(b []byte) (proto.Message, error) {
				m := &apiv1.WatchResponse{}
				return m, Unmarshal(b, m)
			})
		}
		if m, err := Decode(data); err == nil {
			roundTrip(t, m, Decode)
			roundTripYAML(t, m)
		}
		ms, err := DecodeManifests(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, m := range ms {
			roundTrip(t, m, Decode)
			roundTripYAML(t, m)
		}
	})
}

// roundTrip checks that m, once encoded, decodes to itself.
func roundTrip(t *testing.T, m proto.Message, decode func([]byte) (proto.Message, error)) {
	t.Helper()
	b, err := Marshal(m)
	if err != nil {
		t.Fatalf("Marshal of a decoded message: %v", err)
	}
	again, err := decode(b)
	if err != nil {
		t.Fatalf("decode of %s: %v", b, err)
	}
	if diff := cmp.Diff(m, again, protocmp.Transform()); diff != "" {
		t.Fatalf("round trip of %s (-want +got):\n%s", b, diff)
	}
}

// roundTripYAML checks that the kind's message m, written as YAML, reads
// back as itself.
func roundTripYAML(t *testing.T, m proto.Message) {
	t.Helper()
	y, err := MarshalYAML(m)
	if err != nil {
		t.Fatalf("MarshalYAML of a decoded message: %v", err)
	}
	ms, err := DecodeManifests(bytes.NewReader(y))
	if err != nil {
		t.Fatalf("DecodeManifests of %s: %v", y, err)
	}
	if len(ms) != 1 {
		t.Fatalf("DecodeManifests of %s: %d objects, want 1", y, len(ms))
	}
	if diff := cmp.Diff(m, ms[0], protocmp.Transform()); diff != "" {
		t.Fatalf("YAML round trip of %s (-want +got):\n%s", y, diff)
	}
}
