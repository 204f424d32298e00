package codec

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

const quantityRegexpError = `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`

// TestDecodeErrors checks the message of each kind of error, through
// Decode (JSON) and DecodeManifests (YAML, documents, lists).
func TestDecodeErrors(t *testing.T) {
	const pod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},`
	const deploy = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},`
	const svc = `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},`
	tests := []struct {
		name string
		in   string
		// manifests decodes with DecodeManifests instead of Decode.
		manifests bool
		want      string
	}{
		// Unknown fields, with their full path.
		{name: "unknown top-level field", in: pod + `"foo":1}`, want: `unknown field "foo"`},
		{name: "unknown spec field", in: deploy + `"spec":{"foo":{"bar":1}}}`, want: `unknown field "spec.foo"`},
		{name: "unknown metadata field", in: pod + `"spec":{}, "status":{}, "metadata2":{}}`, want: `unknown field "metadata2"`},
		{name: "unknown container field", in: pod + `"spec":{"containers":[{"name":"a","foo":"x"}]}}`, want: `unknown field "spec.containers[0].foo"`},
		{
			name: "unknown field deep in a template",
			in:   deploy + `"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"b","resources":{"limits":{},"requestz":{}}}]}}}}`,
			want: `unknown field "spec.template.spec.containers[1].resources.requestz"`,
		},
		{name: "unknown field in a list in metadata", in: `{"apiVersion":"v1","kind":"Pod","metadata":{"ownerReferences":[{"kind":"Node"},{"blockOwnerDeletion":true,"controler":true}]}}`, want: `unknown field "metadata.ownerReferences[1].controler"`},
		{name: "field names are case-sensitive", in: deploy + `"spec":{"Replicas":3}}`, want: `unknown field "spec.Replicas"`},
		{name: "proto field names are not JSON names", in: pod + `"spec":{"restart_policy":"Always"}}`, want: `unknown field "spec.restart_policy"`},
		{name: "protoc's lowerCamel is not the json_name", in: pod + `"status":{"podIp":"10.0.0.1"}}`, want: `unknown field "status.podIp"`},
		{name: "duplicate field", in: deploy + `"spec":{"replicas":1,"replicas":2}}`, want: `duplicate field "spec.replicas"`},
		{name: "duplicate message field", in: pod + `"metadata":{"labels":{"a":"1"}}}`, want: `duplicate field "metadata"`},
		{name: "duplicate map key in a map", in: `{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"a":"1","a":"2"}}}`, want: `duplicate field "metadata.labels[a]"`},

		// Wrong types.
		{name: "string for an integer", in: deploy + `"spec":{"replicas":"3"}}`, want: `spec.replicas: expected integer, got string`},
		{name: "fraction for an integer", in: deploy + `"spec":{"replicas":1.5}}`, want: `spec.replicas: expected integer, got number 1.5`},
		{name: "exponent for an integer", in: deploy + `"spec":{"replicas":1e2}}`, want: `spec.replicas: expected integer, got number 1e2`},
		{name: "int32 out of range", in: deploy + `"spec":{"replicas":2147483648}}`, want: `spec.replicas: number 2147483648 out of range for int32`},
		{name: "int64 out of range", in: pod + `"spec":{"terminationGracePeriodSeconds":9223372036854775808}}`, want: `spec.terminationGracePeriodSeconds: number 9223372036854775808 out of range for int64`},
		{name: "number for a string", in: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":123}}`, want: `metadata.name: expected string, got number`},
		{name: "string for a boolean", in: pod + `"spec":{"hostNetwork":"true"}}`, want: `spec.hostNetwork: expected boolean, got string`},
		{name: "object for a list", in: pod + `"spec":{"containers":{"name":"a"}}}`, want: `spec.containers: expected array, got object`},
		{name: "list for a message", in: pod + `"spec":[]}`, want: `spec: expected object, got array`},
		{name: "list for a map", in: `{"apiVersion":"v1","kind":"Pod","metadata":{"labels":["a"]}}`, want: `metadata.labels: expected object, got array`},
		{name: "number for a map value", in: `{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"app":1}}}`, want: `metadata.labels[app]: expected string, got number`},
		{name: "number in a string list", in: pod + `"spec":{"containers":[{"name":"a","command":["sh",1]}]}}`, want: `spec.containers[0].command[1]: expected string, got number`},
		{name: "boolean for int-or-string", in: svc + `"spec":{"ports":[{"port":80,"targetPort":true}]}}`, want: `spec.ports[0].targetPort: expected integer or string, got boolean`},
		{name: "fraction for int-or-string", in: svc + `"spec":{"ports":[{"port":80,"targetPort":80.5}]}}`, want: `spec.ports[0].targetPort: expected integer, got number 80.5`},
		{name: "int-or-string out of range", in: svc + `"spec":{"ports":[{"targetPort":4294967296}]}}`, want: `spec.ports[0].targetPort: number 4294967296 out of range for int32`},
		{name: "number for a timestamp", in: `{"apiVersion":"v1","kind":"Pod","metadata":{"creationTimestamp":1700000000}}`, want: `metadata.creationTimestamp: expected RFC 3339 time string, got number`},
		{name: "bad timestamp", in: `{"apiVersion":"v1","kind":"Pod","metadata":{"creationTimestamp":"yesterday"}}`, want: `metadata.creationTimestamp: invalid RFC 3339 time "yesterday"`},
		{name: "timestamp out of range", in: `{"apiVersion":"v1","kind":"Pod","metadata":{"creationTimestamp":"0000-01-01T00:00:00Z"}}`, want: `metadata.creationTimestamp: time "0000-01-01T00:00:00Z" out of range`},
		{name: "number for kind", in: `{"apiVersion":"v1","kind":1}`, want: `Object 'Kind' is missing in '{"apiVersion":"v1","kind":1}'`},

		// Quantities.
		{name: "bad quantity", in: pod + `"spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":"abc"}}}]}}`, want: `spec.containers[0].resources.limits[cpu]: invalid quantity "abc": ` + quantityRegexpError},
		{name: "bad quantity suffix", in: pod + `"spec":{"containers":[{"name":"a","resources":{"requests":{"memory":"64MB"}}}]}}`, want: `spec.containers[0].resources.requests[memory]: invalid quantity "64MB": ` + quantityRegexpError},
		{name: "empty quantity", in: pod + `"spec":{"containers":[{"name":"a","resources":{"requests":{"memory":""}}}]}}`, want: `spec.containers[0].resources.requests[memory]: invalid quantity "": ` + quantityRegexpError},
		{name: "boolean quantity", in: `{"apiVersion":"v1","kind":"Node","status":{"capacity":{"cpu":true}}}`, want: `status.capacity[cpu]: expected quantity (number or string), got boolean`},

		// Kinds.
		{name: "missing kind", in: `{"apiVersion":"v1","metadata":{"name":"x"}}`, want: `Object 'Kind' is missing in '{"apiVersion":"v1","metadata":{"name":"x"}}'`},
		{name: "missing apiVersion", in: `{"kind":"Pod"}`, want: `Object 'apiVersion' is missing in '{"kind":"Pod"}'`},
		{name: "unknown kind", in: `{"apiVersion":"v1","kind":"Foo"}`, want: `no matches for kind "Foo" in version "v1"`},
		{name: "kind in the wrong group", in: `{"apiVersion":"v1","kind":"Deployment"}`, want: `no matches for kind "Deployment" in version "v1"`},
		{name: "not an object", in: `["apiVersion"]`, want: `expected an object, got array`},

		// Syntax.
		{name: "empty", in: ``, want: `invalid JSON: unexpected end of input looking for beginning of value`},
		{name: "truncated", in: `{"apiVersion":"v1","kind":"Pod"`, want: `invalid JSON: unexpected end of input after object key:value pair`},
		{name: "trailing data", in: `{"apiVersion":"v1","kind":"Pod"} x`, want: `invalid JSON at offset 33: invalid character 'x' after top-level value`},
		{name: "bad literal", in: pod + `"spec":{"hostNetwork":tru}}`, want: `invalid JSON at offset 81: invalid character '}' in literal true`},
		{name: "invalid UTF-8", in: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + "\xff" + `"}}`, want: `invalid JSON at offset 51: invalid UTF-8 in string`},

		// Manifests: the document and the object are named.
		{
			name:      "YAML document with a wrong type",
			manifests: true,
			in:        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: three\n",
			want:      `document 1 (Deployment "web"): spec.replicas: expected integer, got string`,
		},
		{
			name:      "YAML document with an unknown field, after an empty one",
			manifests: true,
			in:        "---\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ports:\n  - port: 80\n    targetport: 8080\n",
			want:      `document 1 (Service "s"): unknown field "spec.ports[0].targetport"`,
		},
		{
			name:      "YAML number where a string is wanted",
			manifests: true,
			in:        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    version: 1.0\n",
			want:      `document 0 (Pod "p"): metadata.labels[version]: expected string, got number`,
		},
		{
			name:      "YAML missing kind",
			manifests: true,
			in:        "apiVersion: v1\nmetadata:\n  name: p\n",
			want:      `document 0 ("p"): Object 'Kind' is missing in '{"apiVersion":"v1","metadata":{"name":"p"}}'`,
		},
		{
			name:      "YAML unknown kind",
			manifests: true,
			in:        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n",
			want:      `document 0 (ConfigMap "cm"): no matches for kind "ConfigMap" in version "v1"`,
		},
		{
			name:      "YAML document that is not an object",
			manifests: true,
			in:        "apiVersion: v1\nkind: Pod\n---\n- a\n- b\n",
			want:      `document 1: expected an object, got array`,
		},
		{
			name:      "YAML duplicate key",
			manifests: true,
			in:        "apiVersion: v1\nkind: Pod\nkind: Pod\n",
			want:      `document 0: yaml: unmarshal errors:`,
		},
		{
			name:      "List item",
			manifests: true,
			in:        "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}}\n- {apiVersion: v1, kind: Pod, metadata: {name: b}, spec: {foo: 1}}\n",
			want:      `document 0 item 1 (Pod "b"): unknown field "spec.foo"`,
		},
		{
			name:      "List with an unknown field",
			manifests: true,
			in:        `{"apiVersion":"v1","kind":"List","itemz":[]}`,
			want:      `document 0 (List): unknown field "itemz"`,
		},
		{
			name:      "JSON stream, second object",
			manifests: true,
			in:        `{"apiVersion":"v1","kind":"Pod"} {"apiVersion":"v1","kind":"Pod","metadata":{"name":"b","uid":7}}`,
			want:      `document 1 (Pod "b"): metadata.uid: expected string, got number`,
		},
		{
			name:      "JSON stream, garbage between objects",
			manifests: true,
			in:        `{"apiVersion":"v1","kind":"Pod"} ]`,
			want:      `document 1: invalid JSON at offset 33: invalid character ']' looking for beginning of value`,
		},
		{
			name:      "JSON stream, deep nesting",
			manifests: true,
			in:        `{"apiVersion":"v1","kind":"List","items":` + strings.Repeat(`[`, 20000),
			want:      `document 0: invalid JSON at offset 10040: exceeded max depth`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.manifests {
				_, err = DecodeManifests(strings.NewReader(tt.in))
			} else {
				_, err = Decode([]byte(tt.in))
			}
			if err == nil {
				t.Fatalf("no error, want %s", tt.want)
			}
			got := err.Error()
			if strings.HasSuffix(tt.want, ":") {
				// A library's message: only its start is ours.
				if !strings.HasPrefix(got, tt.want) {
					t.Errorf("error = %s\nwant prefix %s", got, tt.want)
				}
				return
			}
			if got != tt.want {
				t.Errorf("error = %s\nwant    %s", got, tt.want)
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		into proto.Message
		want string
	}{
		{name: "kind of another message", in: `{"apiVersion":"v1","kind":"Service"}`, into: &corev1.Pod{}, want: `kind: got "Service", want "Pod"`},
		{name: "apiVersion of another group", in: `{"apiVersion":"apps/v1"}`, into: &corev1.Pod{}, want: `apiVersion: got "apps/v1", want "v1"`},
		{name: "kind that is not a string", in: `{"kind":["Pod"]}`, into: &corev1.Pod{}, want: `kind: expected string, got array`},
		{name: "apiVersion and kind are fields of other messages", in: `{"kind":"Pod"}`, into: &corev1.PodSpec{}, want: `unknown field "kind"`},
		{name: "apiVersion and kind only at the top", in: `{"spec":{"apiVersion":"v1"}}`, into: &corev1.Pod{}, want: `unknown field "spec.apiVersion"`},
		{name: "Any without a kind", in: `{"object":{"apiVersion":"v1"}}`, into: &apiv1.GetResponse{}, want: `object: Object 'Kind' is missing in '{"apiVersion":"v1"}'`},
		{name: "Any with a bad field", in: `{"object":{"apiVersion":"v1","kind":"Pod","spec":{"x":1}}}`, into: &apiv1.GetResponse{}, want: `unknown field "object.spec.x"`},
		{name: "map with a value of the wrong type", in: `{"matchLabels":{"a":{}}}`, into: &metav1.LabelSelector{}, want: `matchLabels[a]: expected string, got object`},
		{name: "nil message", in: `{}`, into: (*corev1.Pod)(nil), want: `unmarshal: nil gantry.core.v1.Pod`},
		{name: "top-level string", in: `"x"`, into: &corev1.Pod{}, want: `expected object, got string`},
		{name: "deep nesting", in: `{"apiVersion":"v1","kind":"Pod","metadata":{"labels":` + strings.Repeat(`[`, 20000), into: &apiv1.GetResponse{}, want: `unknown field "apiVersion"`},
		{name: "deep nesting in an Any", in: `{"object":{"apiVersion":"v1","kind":"Pod","metadata":{"labels":` + strings.Repeat(`[`, 20000), into: &apiv1.GetResponse{}, want: `invalid JSON at offset 10061: exceeded max depth`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Unmarshal([]byte(tt.in), tt.into)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v\nwant    %s", err, tt.want)
			}
		})
	}
}
