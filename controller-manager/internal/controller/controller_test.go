package controller_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gantryhq/gantry/controller-manager/internal/controller"
	"github.com/gantryhq/gantry/controller-manager/internal/controllertest"
	corev1 "github.com/gantryhq/gantry/proto/gantry/core/v1"
	metav1 "github.com/gantryhq/gantry/proto/gantry/meta/v1"
)

func TestSlowStartBatch(t *testing.T) {
	tests := []struct {
		name      string
		count     int
		failAfter int64 // calls that succeed before every call fails; -1 never fails
		wantCalls int64
		wantOK    int
	}{
		{"all succeed in batches 1, 2, 4, 3", 10, -1, 10, 10},
		{"first call fails: one call only", 10, 0, 1, 0},
		{"fails in the third batch: it is finished, no fourth", 100, 3, 7, 3},
	}
	for _, tt := range tests {
		var calls atomic.Int64
		ok, err := controller.SlowStartBatch(tt.count, 1, func() error {
			n := calls.Add(1)
			if tt.failAfter >= 0 && n > tt.failAfter {
				return errors.New("quota")
			}
			return nil
		})
		if calls.Load() != tt.wantCalls || ok != tt.wantOK || (err != nil) != (tt.failAfter >= 0) {
			t.Errorf("%s: calls %d ok %d err %v; want calls %d ok %d", tt.name, calls.Load(), ok, err, tt.wantCalls, tt.wantOK)
		}
	}
}

func TestSortPodsForDeletion(t *testing.T) {
	e := controllertest.Epoch
	pods := []*corev1.Pod{
		controllertest.Pod("old-ready", nil).Running(e.Add(-time.Hour)).Created(e.Add(-2 * time.Hour)).Obj(),
		controllertest.Pod("new-ready", nil).Running(e.Add(-time.Minute)).Created(e.Add(-2 * time.Minute)).Obj(),
		controllertest.Pod("not-ready", nil).Running(time.Time{}).Obj(),
		controllertest.Pod("pending-bound", nil).Node("n").Obj(),
		controllertest.Pod("unscheduled", nil).Obj(),
	}
	controller.SortPodsForDeletion(pods)
	var got []string
	for _, p := range pods {
		got = append(got, p.GetMetadata().GetName())
	}
	want := []string{"unscheduled", "pending-bound", "not-ready", "new-ready", "old-ready"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestExpectations(t *testing.T) {
	x := controller.NewExpectations()
	if !x.Satisfied("a") {
		t.Fatal("no expectations should be satisfied")
	}
	x.ExpectCreations("a", 2)
	x.CreationObserved("a")
	if x.Satisfied("a") {
		t.Fatal("satisfied with a create outstanding")
	}
	x.CreationObserved("a")
	if !x.Satisfied("a") {
		t.Fatal("not satisfied after both creates")
	}
	x.ExpectDeletions("a", []string{"ns/p", "ns/q"})
	x.DeletionObserved("a", "ns/p")
	x.DeletionObserved("a", "ns/p")
	if x.Satisfied("a") {
		t.Fatal("satisfied with q outstanding")
	}
	x.DeletionObserved("a", "ns/q")
	if !x.Satisfied("a") {
		t.Fatal("not satisfied after both deletes")
	}
}

func TestScaledValue(t *testing.T) {
	is := func(v int32) *metav1.IntOrString {
		return &metav1.IntOrString{Value: &metav1.IntOrString_IntVal{IntVal: v}}
	}
	ss := func(v string) *metav1.IntOrString {
		return &metav1.IntOrString{Value: &metav1.IntOrString_StrVal{StrVal: v}}
	}
	tests := []struct {
		v       *metav1.IntOrString
		total   int
		up      bool
		want    int
		wantErr bool
	}{
		{is(3), 10, true, 3, false},
		{ss("25%"), 10, true, 3, false},
		{ss("25%"), 10, false, 2, false},
		{ss("5"), 10, false, 5, false},
		{nil, 10, false, 0, false},
		{ss("x%"), 10, false, 0, true},
	}
	for _, tt := range tests {
		got, err := controller.ScaledValue(tt.v, tt.total, tt.up)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ScaledValue(%v, %d, %v) = %d, %v", tt.v, tt.total, tt.up, got, err)
		}
	}
}

func TestSelector(t *testing.T) {
	s, err := controller.Selector(&metav1.LabelSelector{MatchLabels: map[string]string{"a": "1"},
		MatchExpressions: []*metav1.LabelSelectorRequirement{{Key: "b", Operator: "In", Values: []string{"x", "y"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Matches(mapLabels{"a": "1", "b": "y"}) || s.Matches(mapLabels{"a": "1", "b": "z"}) {
		t.Errorf("selector %s matches wrongly", s)
	}
	if n, _ := controller.Selector(nil); n.Matches(mapLabels{}) {
		t.Error("a nil selector matched")
	}
	if _, err := controller.Selector(&metav1.LabelSelector{MatchExpressions: []*metav1.LabelSelectorRequirement{{Key: "b", Operator: "Bogus"}}}); err == nil {
		t.Error("bad operator accepted")
	}
}

type mapLabels map[string]string

func (m mapLabels) Has(k string) bool              { _, ok := m[k]; return ok }
func (m mapLabels) Get(k string) string            { return m[k] }
func (m mapLabels) Lookup(k string) (string, bool) { v, ok := m[k]; return v, ok }
