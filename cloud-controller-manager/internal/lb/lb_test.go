package lb

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func freePort(t *testing.T) int32 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return int32(l.Addr().(*net.TCPAddr).Port)
}

func backend(t *testing.T, name string) string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, name) }))
	t.Cleanup(s.Close)
	return strings.TrimPrefix(s.URL, "http://")
}

func get(port int32) (string, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestForwarder(t *testing.T) {
	a, b := backend(t, "a"), backend(t, "b")
	dead := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	p1, p2 := freePort(t), freePort(t)
	f := NewForwarder(nil)
	f.ListenHost = "127.0.0.1"
	defer f.Close()
	if err := f.Apply(&Config{Listeners: []Listener{
		{Port: p1, Protocol: "TCP", Backends: []string{a, dead, b}},
		{Port: p2, Protocol: "TCP", Backends: []string{b}},
	}}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for range 6 {
		got, err := get(p1)
		if err != nil {
			t.Fatalf("GET through port %d: %v", p1, err)
		}
		seen[got]++
	}
	if seen["a"] == 0 || seen["b"] == 0 || seen["a"]+seen["b"] != 6 {
		t.Errorf("responses %v: want both backends, dead one skipped", seen)
	}
	if got, err := get(p2); err != nil || got != "b" {
		t.Errorf("port %d: got %q, %v; want b", p2, got, err)
	}

	// New config: port 2 goes, port 1 now only reaches a.
	if err := f.Apply(&Config{Listeners: []Listener{{Port: p1, Protocol: "TCP", Backends: []string{a}}}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got, err := get(p1); err != nil || got != "a" {
			t.Errorf("after update: got %q, %v; want a", got, err)
		}
	}
	if _, err := get(p2); err == nil {
		t.Errorf("port %d still answers after it was removed", p2)
	}
	if f.Addr(p2) != nil {
		t.Errorf("listener of port %d still known", p2)
	}
}

func TestConfig(t *testing.T) {
	c := Config{Listeners: []Listener{
		{Port: 443, Protocol: "TCP", Backends: []string{"10.0.0.2:30443", "10.0.0.1:30443"}},
		{Port: 80, Protocol: "TCP", Backends: []string{"10.0.0.1:30080"}},
	}}
	data, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseConfig(data)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{Listeners: []Listener{
		{Port: 80, Protocol: "TCP", Backends: []string{"10.0.0.1:30080"}},
		{Port: 443, Protocol: "TCP", Backends: []string{"10.0.0.1:30443", "10.0.0.2:30443"}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if c.Listeners[0].Port != 443 {
		t.Error("Marshal changed its receiver's slice")
	}
	for _, bad := range []string{
		`{"listeners":[{"port":0,"protocol":"TCP"}]}`,
		`{"listeners":[{"port":53,"protocol":"UDP"}]}`,
		`{"listeners":[{"port":80,"protocol":"TCP","backends":["nohost"]}]}`,
		`{"listeners":[{"port":80,"protocol":"TCP"},{"port":80,"protocol":"TCP"}]}`,
	} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("ParseConfig(%s) succeeded", bad)
		}
	}
}
