package codec

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
	appsv1 "github.com/gantryhq/gantry/proto/gantry/apps/v1"
	batchv1 "github.com/gantryhq/gantry/proto/gantry/batch/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

var update = flag.Bool("update", false, "rewrite the golden JSON files in testdata")

func intStr(i int32) *metav1.IntOrString {
	return &metav1.IntOrString{Value: &metav1.IntOrString_IntVal{IntVal: i}}
}

func strVal(s string) *metav1.IntOrString {
	return &metav1.IntOrString{Value: &metav1.IntOrString_StrVal{StrVal: s}}
}

func qty(s string) *metav1.Quantity { return &metav1.Quantity{Value: s} }

// decodeFile reads the one object of a testdata manifest.
func decodeFile(t testing.TB, name string) proto.Message {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := DecodeManifests(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("DecodeManifests(%s): %v", name, err)
	}
	if len(ms) != 1 {
		t.Fatalf("DecodeManifests(%s): got %d objects, want 1", name, len(ms))
	}
	return ms[0]
}

// TestRoundTrip decodes documentation-shaped manifests, encodes them and
// decodes them again (from JSON, indented JSON and YAML), and checks that
// nothing changed and that the JSON has Kubernetes' shapes.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		file string
		// want, when set, is what the manifest must decode to.
		want proto.Message
		// contains are fragments the compact JSON must have.
		contains []string
	}{{
		file: "deployment.yaml",
		want: &appsv1.Deployment{
			Metadata: &metav1.ObjectMeta{Name: "nginx-deployment", Labels: map[string]string{"app": "nginx"}},
			Spec: &appsv1.DeploymentSpec{
				Replicas: proto.Int32(3),
				Strategy: &appsv1.DeploymentStrategy{
					Type:          "RollingUpdate",
					RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: strVal("25%"), MaxUnavailable: intStr(1)},
				},
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "nginx"}},
				Template: &corev1.PodTemplateSpec{
					Metadata: &metav1.ObjectMeta{Labels: map[string]string{"app": "nginx"}},
					Spec: &corev1.PodSpec{Containers: []*corev1.Container{{
						Name:  "nginx",
						Image: "nginx:1.14.2",
						Ports: []*corev1.ContainerPort{{ContainerPort: 80}},
					}}},
				},
			},
		},
		contains: []string{
			`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{`,
			`"replicas":3`,
			`"rollingUpdate":{"maxUnavailable":1,"maxSurge":"25%"}`,
		},
	}, {
		file: "service.yaml",
		want: &corev1.Service{
			Metadata: &metav1.ObjectMeta{Name: "my-service"},
			Spec: &corev1.ServiceSpec{
				Selector: map[string]string{"app.kubernetes.io/name": "MyApp"},
				Ports:    []*corev1.ServicePort{{Protocol: "TCP", Port: 80, TargetPort: intStr(8080)}},
			},
		},
		contains: []string{`{"apiVersion":"v1","kind":"Service",`, `"targetPort":8080`},
	}, {
		file: "service-nodeport.yaml",
		want: &corev1.Service{
			Metadata: &metav1.ObjectMeta{Name: "my-nodeport-service"},
			Spec: &corev1.ServiceSpec{
				Type:     "NodePort",
				Selector: map[string]string{"app.kubernetes.io/name": "MyApp"},
				Ports:    []*corev1.ServicePort{{Name: "http", Port: 80, TargetPort: strVal("http"), NodePort: 30007}},
			},
		},
		contains: []string{`"targetPort":"http"`, `"nodePort":30007`, `"type":"NodePort"`},
	}, {
		file: "job.yaml",
		want: &batchv1.Job{
			Metadata: &metav1.ObjectMeta{Name: "pi"},
			Spec: &batchv1.JobSpec{
				BackoffLimit: proto.Int32(4),
				Template: &corev1.PodTemplateSpec{Spec: &corev1.PodSpec{
					RestartPolicy: "Never",
					Containers: []*corev1.Container{{
						Name:    "pi",
						Image:   "perl:5.34.0",
						Command: []string{"perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"},
					}},
				}},
			},
		},
		contains: []string{`{"apiVersion":"batch/v1","kind":"Job",`, `"backoffLimit":4`, `"restartPolicy":"Never"`},
	}, {
		file:     "cronjob.yaml",
		contains: []string{`{"apiVersion":"batch/v1","kind":"CronJob",`, `"schedule":"* * * * *"`, `"image":"busybox:1.28"`},
	}, {
		file: "pod.yaml",
		contains: []string{
			`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"frontend",`,
			`"terminationGracePeriodSeconds":30}}`,
			`"terminationGracePeriodSeconds":60`,
			`"resources":{"limits":{"cpu":"1","memory":"128Mi"},"requests":{"cpu":"250m","memory":"64Mi"}}`,
			`"requests":{"cpu":"0.5","memory":"64Mi"}`,
			`"httpGet":{"path":"/healthz","port":"liveness-port",`,
			`"httpGet":{"path":"/ready","port":8080}`,
			`"exec":{"command":["cat","/tmp/healthy"]}`,
			`"tcpSocket":{"port":8080}`,
		},
	}, {
		file: "lease.yaml",
		contains: []string{
			`{"apiVersion":"coordination.k8s.io/v1","kind":"Lease",`,
			`"creationTimestamp":"2024-01-02T03:04:05Z"`,
			`"renewTime":"2024-01-02T03:04:45.123456Z"`,
			`"leaseDurationSeconds":40`,
		},
	}, {
		file: "node.yaml",
		contains: []string{
			`"capacity":{"cpu":"4","memory":"16342136Ki","pods":"110"}`,
			`"allocatable":{"cpu":"3800m","memory":"15200Mi","pods":"110"}`,
			`"podCIDR":"10.244.1.0/24"`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := decodeFile(t, tt.file)
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
					t.Errorf("decoded %s (-want +got):\n%s", tt.file, diff)
				}
			}

			js, err := Marshal(got)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			for _, c := range tt.contains {
				if !bytes.Contains(js, []byte(c)) {
					t.Errorf("Marshal output lacks %s:\n%s", c, js)
				}
			}
			if !json.Valid(js) {
				t.Errorf("Marshal output is not valid JSON:\n%s", js)
			}
			again, err := Decode(js)
			if err != nil {
				t.Fatalf("Decode(Marshal): %v\n%s", err, js)
			}
			if diff := cmp.Diff(got, again, protocmp.Transform()); diff != "" {
				t.Errorf("JSON round trip (-want +got):\n%s", diff)
			}
			js2, err := Marshal(again)
			if err != nil {
				t.Fatalf("Marshal again: %v", err)
			}
			if !bytes.Equal(js, js2) {
				t.Errorf("Marshal is not stable:\n%s\n%s", js, js2)
			}

			indented, err := MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatalf("MarshalIndent: %v", err)
			}
			golden := filepath.Join("testdata", strings.TrimSuffix(tt.file, ".yaml")+".golden.json")
			if *update {
				if err := os.WriteFile(golden, indented, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if diff := cmp.Diff(string(want), string(indented)); diff != "" {
				t.Errorf("MarshalIndent differs from %s (-want +got):\n%s", golden, diff)
			}
			fromIndented, err := Decode(indented)
			if err != nil {
				t.Fatalf("Decode(MarshalIndent): %v", err)
			}
			if diff := cmp.Diff(got, fromIndented, protocmp.Transform()); diff != "" {
				t.Errorf("indented JSON round trip (-want +got):\n%s", diff)
			}

			y, err := MarshalYAML(got)
			if err != nil {
				t.Fatalf("MarshalYAML: %v", err)
			}
			ms, err := DecodeManifests(bytes.NewReader(y))
			if err != nil {
				t.Fatalf("DecodeManifests(MarshalYAML): %v\n%s", err, y)
			}
			if len(ms) != 1 {
				t.Fatalf("DecodeManifests(MarshalYAML): got %d objects", len(ms))
			}
			if diff := cmp.Diff(got, ms[0], protocmp.Transform()); diff != "" {
				t.Errorf("YAML round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarshal(t *testing.T) {
	tests := []struct {
		name string
		in   proto.Message
		want string
	}{{
		name: "zero scalars, empty lists and maps and nil messages are left out",
		in: &corev1.Pod{
			Metadata: &metav1.ObjectMeta{Name: "p", Labels: map[string]string{}, Finalizers: []string{}},
			Spec:     &corev1.PodSpec{HostNetwork: false, NodeName: "", Containers: nil},
		},
		want: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{}}`,
	}, {
		name: "optional fields are written when set, even to zero",
		in: &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{
			Replicas: proto.Int32(0),
			Paused:   false,
			Template: &corev1.PodTemplateSpec{Spec: &corev1.PodSpec{
				TerminationGracePeriodSeconds: proto.Int64(0),
				ShareProcessNamespace:         proto.Bool(false),
			}},
		}},
		want: `{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":0,"template":{"spec":{"terminationGracePeriodSeconds":0,"shareProcessNamespace":false}}}}`,
	}, {
		name: "int64 as numbers, timestamps in RFC 3339, map keys sorted",
		in: &corev1.Pod{
			Metadata: &metav1.ObjectMeta{
				Name:                       "p",
				Generation:                 9007199254740993,
				CreationTimestamp:          timestamppb.New(mustTime(t, "2024-01-02T03:04:05Z")),
				DeletionTimestamp:          timestamppb.New(mustTime(t, "2024-01-02T03:04:05.5+01:00")),
				DeletionGracePeriodSeconds: proto.Int64(30),
				Labels:                     map[string]string{"b": "2", "a": "1", "c": "3"},
			},
			Spec: &corev1.PodSpec{ActiveDeadlineSeconds: proto.Int64(-1)},
		},
		want: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","generation":9007199254740993,` +
			`"creationTimestamp":"2024-01-02T03:04:05Z","deletionTimestamp":"2024-01-02T02:04:05.5Z",` +
			`"deletionGracePeriodSeconds":30,"labels":{"a":"1","b":"2","c":"3"}},"spec":{"activeDeadlineSeconds":-1}}`,
	}, {
		name: "strings are escaped",
		in: &metav1.ObjectMeta{Annotations: map[string]string{
			"k": "quote \" backslash \\ newline \n tab \t nul \x00 <html> é \u2028",
		}},
		want: `{"annotations":{"k":"quote \" backslash \\ newline \n tab \t nul \u0000 <html> é \u2028"}}`,
	}, {
		name: "IntOrString and Quantity",
		in: &corev1.Container{
			Resources: &corev1.ResourceRequirements{Limits: map[string]*metav1.Quantity{
				"memory": qty("128Mi"), "cpu": qty("1"), "empty": {},
			}},
			LivenessProbe:  &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Port: strVal("http")}},
			ReadinessProbe: &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: intStr(0)}},
			StartupProbe:   &corev1.Probe{TcpSocket: &corev1.TCPSocketAction{Port: &metav1.IntOrString{}}},
		},
		want: `{"resources":{"limits":{"cpu":"1","empty":"0","memory":"128Mi"}},` +
			`"livenessProbe":{"httpGet":{"port":"http"}},"readinessProbe":{"tcpSocket":{"port":0}},` +
			`"startupProbe":{"tcpSocket":{"port":0}}}`,
	}, {
		name: "a message that is not a kind has no apiVersion or kind",
		in:   &corev1.PodSpec{RestartPolicy: "Always"},
		want: `{"restartPolicy":"Always"}`,
	}, {
		name: "an Any holding a kind is the kind's object",
		in:   &apiv1.GetResponse{Object: mustAny(t, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "default"}})},
		want: `{"object":{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}}}`,
	}, {
		name: "an empty kind",
		in:   &corev1.Node{},
		want: `{"apiVersion":"v1","kind":"Node"}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Marshal(tt.in)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("Marshal (-want +got):\n%s", diff)
			}
			if !json.Valid(got) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		in   proto.Message
		want string
	}{{
		name: "timestamp out of range",
		in:   &metav1.ObjectMeta{CreationTimestamp: &timestamppb.Timestamp{Seconds: 253402300800}},
		want: "creationTimestamp: timestamp (253402300800, 0) is out of range",
	}, {
		name: "Any that is not a kind",
		in:   &apiv1.GetResponse{Object: mustAny(t, &corev1.PodSpec{})},
		want: "object: cannot encode google.protobuf.Any holding gantry.core.v1.PodSpec: not a kind",
	}, {
		name: "empty Any",
		in:   &apiv1.GetResponse{Object: &anypb.Any{}},
		want: "object: cannot encode an empty google.protobuf.Any",
	}, {
		name: "nil",
		in:   nil,
		want: "marshal: nil message",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Marshal(tt.in)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Marshal error = %v, want %s", err, tt.want)
			}
		})
	}
}

func TestMarshalYAML(t *testing.T) {
	got, err := MarshalYAML(decodeFile(t, "service-nodeport.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: v1
kind: Service
metadata:
  name: my-nodeport-service
spec:
  ports:
  - name: http
    nodePort: 30007
    port: 80
    targetPort: http
  selector:
    app.kubernetes.io/name: MyApp
  type: NodePort
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("MarshalYAML (-want +got):\n%s", diff)
	}
}

func TestUnmarshal(t *testing.T) {
	tests := []struct {
		name string
		in   string
		into proto.Message
		want proto.Message
	}{{
		name: "null is unset; optional zero is set",
		in: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":null,` +
			`"spec":{"replicas":0,"paused":false,"strategy":null,"minReadySeconds":null}}`,
		into: &appsv1.Deployment{},
		want: &appsv1.Deployment{Spec: &appsv1.DeploymentSpec{Replicas: proto.Int32(0)}},
	}, {
		name: "apiVersion and kind may be left out, or be null or empty",
		in:   `{"kind":"","apiVersion":null,"metadata":{"name":"x"}}`,
		into: &corev1.Pod{},
		want: &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "x"}},
	}, {
		name: "IntOrString and Quantity from numbers and strings",
		in: `{"ports":[{"containerPort":80}],"resources":{"limits":{"cpu":1,"memory":"128Mi","a":0.5,"b":1e3,"c":" 2 "},` +
			`"requests":{"cpu":"250m"}},"livenessProbe":{"httpGet":{"port":8080},"tcpSocket":{"port":"http"}},` +
			`"readinessProbe":{"httpGet":{"port":""}}}`,
		into: &corev1.Container{},
		want: &corev1.Container{
			Ports: []*corev1.ContainerPort{{ContainerPort: 80}},
			Resources: &corev1.ResourceRequirements{
				Limits:   map[string]*metav1.Quantity{"cpu": qty("1"), "memory": qty("128Mi"), "a": qty("0.5"), "b": qty("1e3"), "c": qty("2")},
				Requests: map[string]*metav1.Quantity{"cpu": qty("250m")},
			},
			LivenessProbe: &corev1.Probe{
				HttpGet:   &corev1.HTTPGetAction{Port: intStr(8080)},
				TcpSocket: &corev1.TCPSocketAction{Port: strVal("http")},
			},
			ReadinessProbe: &corev1.Probe{HttpGet: &corev1.HTTPGetAction{Port: strVal("")}},
		},
	}, {
		name: "timestamps with offsets and fractions; int64 at its limits",
		in: `{"creationTimestamp":"2024-01-02T04:04:05+01:00","deletionTimestamp":"2024-01-02T03:04:05.000000001Z",` +
			`"generation":9223372036854775807,"deletionGracePeriodSeconds":-9223372036854775808}`,
		into: &metav1.ObjectMeta{},
		want: &metav1.ObjectMeta{
			CreationTimestamp:          &timestamppb.Timestamp{Seconds: 1704164645},
			DeletionTimestamp:          &timestamppb.Timestamp{Seconds: 1704164645, Nanos: 1},
			Generation:                 9223372036854775807,
			DeletionGracePeriodSeconds: proto.Int64(-9223372036854775808),
		},
	}, {
		name: "escapes in strings and keys; null in lists and maps is the zero value",
		in:   `{"labels":{"\u0061":"caf\u00e9 \ud83d\ude00 \/","b":null},"finalizers":["x",null],"ownerReferences":[null]}`,
		into: &metav1.ObjectMeta{},
		want: &metav1.ObjectMeta{
			Labels:          map[string]string{"a": "café 😀 /", "b": ""},
			Finalizers:      []string{"x", ""},
			OwnerReferences: []*metav1.OwnerReference{{}},
		},
	}, {
		name: "Any from a kind's object",
		in:   ` {"object": {"metadata":{"name":"default"},"kind":"Namespace","apiVersion":"v1"}} `,
		into: &apiv1.GetResponse{},
		want: &apiv1.GetResponse{Object: mustAny(t, &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "default"}})},
	}, {
		name: "Unmarshal resets the message first",
		in:   `{"name":"new"}`,
		into: &metav1.ObjectMeta{Namespace: "old"},
		want: &metav1.ObjectMeta{Name: "new"},
	}, {
		name: "top-level null",
		in:   `null`,
		into: &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: "old"}},
		want: &corev1.Pod{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Unmarshal([]byte(tt.in), tt.into); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if diff := cmp.Diff(tt.want, tt.into, protocmp.Transform()); diff != "" {
				t.Errorf("Unmarshal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeManifests(t *testing.T) {
	pod := func(name string) proto.Message {
		return &corev1.Pod{Metadata: &metav1.ObjectMeta{Name: name}}
	}
	ns := &corev1.Namespace{Metadata: &metav1.ObjectMeta{Name: "team-a"}}
	tests := []struct {
		name string
		in   string
		want []proto.Message
	}{{
		name: "YAML documents, with empty and comment-only ones skipped",
		in: `# leading comment
---
apiVersion: v1
kind: Pod
metadata:
  name: a
---
---
# only a comment
---   # a comment after the separator
apiVersion: v1
kind: Namespace
metadata: {name: team-a}
...
`,
		want: []proto.Message{pod("a"), ns},
	}, {
		name: "YAML List",
		in: `apiVersion: v1
kind: List
metadata: {}
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: a}
- apiVersion: v1
  kind: Pod
  metadata: {name: b}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-a}
`,
		want: []proto.Message{pod("a"), pod("b"), ns},
	}, {
		name: "one JSON object",
		in:   `  {"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}` + "\n",
		want: []proto.Message{pod("a")},
	}, {
		name: "a stream of JSON objects, one a List",
		in: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}
{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"}}]}{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"team-a"}}`,
		want: []proto.Message{pod("a"), pod("b"), ns},
	}, {
		name: "empty input",
		in:   "\n# nothing here\n",
		want: nil,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeManifests(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("DecodeManifests: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, protocmp.Transform()); diff != "" {
				t.Errorf("DecodeManifests (-want +got):\n%s", diff)
			}
		})
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
