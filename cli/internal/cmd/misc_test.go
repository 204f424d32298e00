package cmd

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
)

func TestMergePatch(t *testing.T) {
	var doc, patch any
	_ = json.Unmarshal([]byte(`{"a":1,"b":{"c":2,"d":3},"l":[1,2]}`), &doc)
	_ = json.Unmarshal([]byte(`{"b":{"c":null,"e":4},"l":[3],"n":"x"}`), &patch)
	got, _ := json.Marshal(mergePatch(doc, patch))
	if want := `{"a":1,"b":{"d":3,"e":4},"l":[3],"n":"x"}`; string(got) != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestJSONPatch(t *testing.T) {
	tests := []struct {
		doc, patch, want, wantErr string
	}{
		{doc: `{"spec":{"replicas":1}}`, patch: `[{"op":"replace","path":"/spec/replicas","value":3}]`, want: `{"spec":{"replicas":3}}`},
		{doc: `{"l":[1,2]}`, patch: `[{"op":"add","path":"/l/1","value":9}]`, want: `{"l":[1,9,2]}`},
		{doc: `{"l":[1,2]}`, patch: `[{"op":"add","path":"/l/-","value":9}]`, want: `{"l":[1,2,9]}`},
		{doc: `{"l":[1,2]}`, patch: `[{"op":"remove","path":"/l/0"}]`, want: `{"l":[2]}`},
		{doc: `{"m":{"a/b":1}}`, patch: `[{"op":"remove","path":"/m/a~1b"}]`, want: `{"m":{}}`},
		{doc: `{"a":1}`, patch: `[{"op":"test","path":"/a","value":2}]`, wantErr: "testing value /a failed"},
		{doc: `{"a":1}`, patch: `[{"op":"replace","path":"/b","value":2}]`, wantErr: "replace operation does not apply: doc is missing key: /b"},
	}
	for _, tt := range tests {
		var doc any
		var ops []jsonPatchOp
		_ = json.Unmarshal([]byte(tt.doc), &doc)
		if err := json.Unmarshal([]byte(tt.patch), &ops); err != nil {
			t.Fatal(err)
		}
		got, err := applyJSONPatch(doc, ops)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s: err %v, want %q", tt.patch, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.patch, err)
			continue
		}
		b, _ := json.Marshal(got)
		if string(b) != tt.want {
			t.Errorf("%s: got %s want %s", tt.patch, b, tt.want)
		}
	}
}

func TestParseWaitFor(t *testing.T) {
	tests := []struct {
		in   string
		want waitCondition
	}{
		{"delete", waitCondition{deleted: true}},
		{"condition=Available", waitCondition{condition: "available", want: "true"}},
		{"condition=Ready=false", waitCondition{condition: "ready", want: "false"}},
		{"jsonpath={.status.phase}=Running", waitCondition{jsonpath: "{.status.phase}", want: "Running"}},
	}
	for _, tt := range tests {
		got, err := parseWaitFor(tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(waitCondition{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.in, diff)
		}
	}
	if _, err := parseWaitFor("bogus"); err == nil {
		t.Error("parseWaitFor(bogus) succeeded")
	}
}

func TestReorganizeTaints(t *testing.T) {
	old := []*corev1.Taint{{Key: "a", Value: "1", Effect: "NoSchedule"}, {Key: "b", Effect: "NoExecute"}}
	parse := func(s string) (*corev1.Taint, bool) {
		t.Helper()
		tt, rm, err := parseTaint(s)
		if err != nil {
			t.Fatal(err)
		}
		return tt, rm
	}
	c, _ := parse("c=3:PreferNoSchedule")
	got, verb, err := reorganizeTaints("n1", old, false, []*corev1.Taint{c}, nil)
	if err != nil || verb != "tainted" || len(got) != 3 {
		t.Errorf("add: %v %q %v", got, verb, err)
	}
	a2, _ := parse("a=2:NoSchedule")
	if _, _, err := reorganizeTaints("n1", old, false, []*corev1.Taint{a2}, nil); err == nil ||
		err.Error() != "node n1 already has a taint(s) with same effect(s) and --overwrite is false" {
		t.Errorf("add existing without --overwrite: %v", err)
	}
	got, verb, err = reorganizeTaints("n1", old, true, []*corev1.Taint{a2}, nil)
	if err != nil || verb != "modified" || len(got) != 2 || got[1].GetValue() != "2" {
		t.Errorf("overwrite: %v %q %v", got, verb, err)
	}
	rb, rm := parse("b-")
	if !rm {
		t.Fatal("b- is not a removal")
	}
	got, verb, err = reorganizeTaints("n1", old, false, nil, []*corev1.Taint{rb})
	if err != nil || verb != "untainted" || len(got) != 1 || got[0].GetKey() != "a" {
		t.Errorf("remove: %v %q %v", got, verb, err)
	}
	rz, _ := parse("z:NoSchedule-")
	if _, _, err := reorganizeTaints("n1", old, false, nil, []*corev1.Taint{rz}); err == nil {
		t.Error("removing a missing taint succeeded")
	}
	if _, _, err := parseTaint("a=1:Bogus"); err == nil {
		t.Error("parseTaint accepted a bogus effect")
	}
}
