package probe

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz":
			w.Write([]byte("ok\n"))
		case "/slow":
			time.Sleep(2 * time.Second)
		default:
			http.Error(w, "[-]informers failed", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer tlsSrv.Close()

	// A port nothing listens on: listen, note the address, close.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	dir := t.TempDir()
	file := filepath.Join(dir, "admin.conf")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, target string
		wantErr      string // "" means healthy
	}{
		{"http 200", srv.URL + "/readyz", ""},
		{"http 503", srv.URL + "/livez", "status 503"},
		{"http timeout", srv.URL + "/slow", "deadline exceeded"},
		{"https self-signed", tlsSrv.URL + "/", ""},
		{"http refused", "http://" + closed + "/readyz", "refused"},
		{"tcp open", "tcp://" + strings.TrimPrefix(srv.URL, "http://"), ""},
		{"tcp refused", "tcp://" + closed, "refused"},
		{"tcp without host", "tcp:///x", "host:port"},
		{"file exists", "file://" + file, ""},
		{"file missing", "file://" + filepath.Join(dir, "nope"), "no such file"},
		{"unknown scheme", "ftp://x", "unknown scheme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.target, 500*time.Millisecond)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Check(%s) = %v, want healthy", tc.target, err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("Check(%s) healthy, want error containing %q", tc.target, tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("Check(%s) = %v, want error containing %q", tc.target, err, tc.wantErr)
			}
		})
	}
}
