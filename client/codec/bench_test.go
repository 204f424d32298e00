package codec

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

// The Pod of testdata/pod.yaml: two containers with resources and probes.

func BenchmarkMarshalPod(b *testing.B) {
	pod := decodeFile(b, "pod.yaml")
	data, _ := Marshal(pod)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Marshal(pod); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalPod(b *testing.B) {
	data, err := Marshal(decodeFile(b, "pod.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Unmarshal(data, &corev1.Pod{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePod(b *testing.B) {
	data, err := Marshal(decodeFile(b, "pod.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// The protojson figures are for comparison only (its JSON is not
// Kubernetes').

func BenchmarkProtojsonMarshalPod(b *testing.B) {
	pod := decodeFile(b, "pod.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := protojson.Marshal(pod); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProtojsonUnmarshalPod(b *testing.B) {
	pod := decodeFile(b, "pod.yaml")
	data, err := protojson.Marshal(pod)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := protojson.Unmarshal(data, &corev1.Pod{}); err != nil {
			b.Fatal(err)
		}
	}
}
