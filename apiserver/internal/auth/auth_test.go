package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/gantryhq/gantry/apiserver/internal/pki"
)

const tokenFile = `alice-token,alice,uid-alice,"dev,ops"
bob-token, bob, uid-bob
`

// testService answers with the user the interceptors put in the context.
type testService struct {
	testgrpc.UnimplementedTestServiceServer
}

func userSummary(ctx context.Context) string {
	u, ok := UserFrom(ctx)
	if !ok {
		return "<none>"
	}
	return u.Name + "|" + u.UID + "|" + strings.Join(u.Groups, ",")
}

func (testService) UnaryCall(ctx context.Context, _ *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	return &testgrpc.SimpleResponse{Username: userSummary(ctx)}, nil
}

func (testService) StreamingOutputCall(_ *testgrpc.StreamingOutputCallRequest, stream testgrpc.TestService_StreamingOutputCallServer) error {
	return stream.Send(&testgrpc.StreamingOutputCallResponse{
		Payload: &testgrpc.Payload{Body: []byte(userSummary(stream.Context()))},
	})
}

// recorder is an Authorizer that records what it was asked and denies
// the users in deny.
type recorder struct {
	mu   sync.Mutex
	seen []Attributes
	deny map[string]bool
}

func (r *recorder) Authorize(_ context.Context, u *User, a Attributes) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, a)
	if r.deny[u.Name] {
		return errors.New("denied by test policy")
	}
	return nil
}

func (r *recorder) last() Attributes {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) == 0 {
		return Attributes{}
	}
	return r.seen[len(r.seen)-1]
}

type fixture struct {
	dir    string
	paths  pki.Paths
	caPool *x509.CertPool
	authz  *recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	p, err := pki.EnsureCertificates(dir, pki.Options{Hostname: "test-host"})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pki.LoadCertPool(p.CACert)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{dir: dir, paths: p, caPool: pool, authz: &recorder{deny: map[string]bool{"mallory": true}}}
}

// serve starts a TLS gRPC server with the interceptors on 127.0.0.1:0 and
// returns its address.
func (f *fixture) serve(t *testing.T, exempt []string) string {
	t.Helper()
	cfg, err := f.paths.ServerTLSConfig("")
	if err != nil {
		t.Fatal(err)
	}
	tokPath := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokPath, []byte(tokenFile+"mallory-token,mallory,uid-m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokens, err := LoadTokenFile(tokPath)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		Authenticator: NewUnion(NewX509Authenticator(cfg.ClientCAs), tokens),
		Authorizer:    f.authz,
		Exempt:        exempt,
	}
	srv := grpc.NewServer(append(ServerOptions(opts), grpc.Creds(credentials.NewTLS(cfg)))...)
	testgrpc.RegisterTestServiceServer(srv, testService{})
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// dial connects with the CA as root and, when certPEM is set, a client
// certificate.
func (f *fixture) dial(t *testing.T, addr string, certPEM, keyPEM []byte, maxTLS uint16) *grpc.ClientConn {
	t.Helper()
	cfg := &tls.Config{RootCAs: f.caPool, ServerName: "localhost", MinVersion: tls.VersionTLS12, MaxVersion: maxTLS}
	if certPEM != nil {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func readPair(t *testing.T, certFile, keyFile string) ([]byte, []byte) {
	t.Helper()
	c, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	k, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

func withToken(ctx context.Context, header string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", header)
}

func TestInterceptors(t *testing.T) {
	f := newFixture(t)
	addr := f.serve(t, nil)

	adminCert, adminKey := readPair(t, f.paths.AdminCert, f.paths.AdminKey)
	nodeCert, nodeKey, err := pki.IssueClientCert(f.dir, "system:node:n1", []string{"system:nodes"})
	if err != nil {
		t.Fatal(err)
	}
	other := newFixture(t)
	foreignCert, foreignKey := readPair(t, other.paths.AdminCert, other.paths.AdminKey)

	type client struct{ cert, key []byte }
	tests := []struct {
		name     string
		client   client
		header   string // authorization metadata
		maxTLS   uint16 // the client's highest TLS version; 0 is TLS 1.3
		wantUser string
		wantCode codes.Code
		wantMsg  []string // any of these in the error
	}{
		{name: "admin certificate", client: client{adminCert, adminKey},
			wantUser: "admin||system:masters,system:authenticated"},
		{name: "issued node certificate", client: client{nodeCert, nodeKey},
			wantUser: "system:node:n1||system:nodes,system:authenticated"},
		{name: "valid token", header: "Bearer alice-token",
			wantUser: "alice|uid-alice|dev,ops,system:authenticated"},
		{name: "token without groups, lowercase scheme", header: "bearer bob-token",
			wantUser: "bob|uid-bob|system:authenticated"},
		{name: "certificate wins over a bad token", client: client{adminCert, adminKey}, header: "Bearer nope",
			wantUser: "admin||system:masters,system:authenticated"},
		{name: "no credentials", wantCode: codes.Unauthenticated, wantMsg: []string{"Unauthorized"}},
		{name: "unknown token", header: "Bearer nope", wantCode: codes.Unauthenticated, wantMsg: []string{"Unauthorized"}},
		{name: "basic auth is no credential", header: "Basic YWxpY2U6eA==", wantCode: codes.Unauthenticated, wantMsg: []string{"Unauthorized"}},
		{name: "denied by the authorizer", header: "Bearer mallory-token", wantCode: codes.PermissionDenied,
			wantMsg: []string{`User "mallory" cannot unarycall /grpc.testing.TestService/UnaryCall: denied by test policy`,
				`User "mallory" cannot streamingoutputcall /grpc.testing.TestService/StreamingOutputCall: denied by test policy`}},
		// The handshake only requests the certificate (as kube-apiserver
		// does) and the x509 authenticator rejects one from another CA,
		// so under TLS 1.2 and 1.3 alike the client is told Unauthorized
		// rather than failing the handshake.
		{name: "certificate from another CA, TLS 1.2", client: client{foreignCert, foreignKey},
			maxTLS: tls.VersionTLS12, wantCode: codes.Unauthenticated, wantMsg: []string{"Unauthorized"}},
		{name: "certificate from another CA, TLS 1.3", client: client{foreignCert, foreignKey},
			maxTLS: tls.VersionTLS13, wantCode: codes.Unauthenticated, wantMsg: []string{"Unauthorized"}},
		{name: "certificate from another CA and a bad token", client: client{foreignCert, foreignKey}, header: "Bearer nope",
			wantCode: codes.Unauthenticated, wantMsg: []string{"Unauthorized"}},
		// As in kube-apiserver's union authenticator, any authenticator
		// that succeeds authenticates the request: a valid token alongside
		// a rejected certificate authenticates the token's user.
		{name: "certificate from another CA with a valid token, TLS 1.2", client: client{foreignCert, foreignKey},
			header: "Bearer alice-token", maxTLS: tls.VersionTLS12,
			wantUser: "alice|uid-alice|dev,ops,system:authenticated"},
		{name: "certificate from another CA with a valid token, TLS 1.3", client: client{foreignCert, foreignKey},
			header: "Bearer alice-token", maxTLS: tls.VersionTLS13,
			wantUser: "alice|uid-alice|dev,ops,system:authenticated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if tc.header != "" {
				ctx = withToken(ctx, tc.header)
			}
			tsc := testgrpc.NewTestServiceClient(f.dial(t, addr, tc.client.cert, tc.client.key, tc.maxTLS))

			resp, err := tsc.UnaryCall(ctx, &testgrpc.SimpleRequest{})
			checkResult(t, "unary", err, tc.wantCode, tc.wantMsg, func() string { return resp.GetUsername() }, tc.wantUser)

			stream, err := tsc.StreamingOutputCall(ctx, &testgrpc.StreamingOutputCallRequest{})
			if err == nil {
				var out *testgrpc.StreamingOutputCallResponse
				out, err = stream.Recv()
				checkResult(t, "stream", err, tc.wantCode, tc.wantMsg, func() string { return string(out.GetPayload().GetBody()) }, tc.wantUser)
			} else {
				checkResult(t, "stream", err, tc.wantCode, tc.wantMsg, nil, tc.wantUser)
			}
		})
	}
	if got := f.authz.last(); got.Verb != "streamingoutputcall" || got.FullMethod != "/grpc.testing.TestService/StreamingOutputCall" {
		t.Errorf("last authorized attributes = %+v", got)
	}
}

func checkResult(t *testing.T, kind string, err error, wantCode codes.Code, wantMsg []string, got func() string, wantUser string) {
	t.Helper()
	if wantCode == codes.OK {
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if g := got(); g != wantUser {
			t.Errorf("%s: user = %q, want %q", kind, g, wantUser)
		}
		return
	}
	if err == nil {
		t.Fatalf("%s: succeeded, want %v", kind, wantCode)
	}
	st, _ := status.FromError(err)
	if st.Code() != wantCode {
		t.Errorf("%s: code = %v, want %v (%v)", kind, st.Code(), wantCode, err)
	}
	if !slices.ContainsFunc(wantMsg, func(m string) bool { return strings.Contains(st.Message(), m) }) {
		t.Errorf("%s: message %q says none of %q", kind, st.Message(), wantMsg)
	}
	t.Logf("%s: %v", kind, err)
}

func TestExemptHealth(t *testing.T) {
	f := newFixture(t)
	check := func(addr string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := healthpb.NewHealthClient(f.dial(t, addr, nil, nil, 0)).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
	if err := check(f.serve(t, nil)); err != nil {
		t.Errorf("health by default: %v, want it exempt", err)
	}
	if err := check(f.serve(t, []string{})); status.Code(err) != codes.Unauthenticated {
		t.Errorf("health with nothing exempt: %v, want Unauthenticated", err)
	}
	if err := check(f.serve(t, []string{"/grpc.health.v1.Health/Check"})); err != nil {
		t.Errorf("health with Check exempt by full name: %v", err)
	}
}

func TestParseTokenFile(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		want    map[string]*User
		wantErr string
	}{
		{
			name: "kubernetes format",
			file: "t1,alice,1,\"a, b\"\n\n t2 ,bob,2\nt3,carol,3,\n",
			want: map[string]*User{
				"t1": {Name: "alice", UID: "1", Groups: []string{"a", "b"}},
				"t2": {Name: "bob", UID: "2"},
				"t3": {Name: "carol", UID: "3"},
			},
		},
		{name: "too few columns", file: "t1,alice,1\nt2,bob\n", wantErr: "tokens.csv: line 2: want at least 3 columns"},
		{name: "unquoted groups", file: "t1,alice,1\n\nt2,bob,2,g1,g2\n", wantErr: "line 3: want at most 4 columns"},
		{name: "empty token", file: "t1,alice,1\n,bob,2\n", wantErr: "line 2: empty token"},
		{name: "empty user", file: "t1,,1\n", wantErr: "line 1: empty user name"},
		{name: "duplicate token", file: "t1,alice,1\nt1,bob,2\n", wantErr: "line 2: duplicate token (first on line 1)"},
		{name: "bad quoting", file: "t1,alice,1\nt2,bob,2,\"g1\n", wantErr: "line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := ParseTokenFile(strings.NewReader(tc.file), "tokens.csv")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]*User{}
			for _, e := range a.tokens {
				got[e.token] = e.user
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := LoadTokenFile(filepath.Join(t.TempDir(), "missing.csv")); err == nil {
		t.Error("LoadTokenFile of a missing file succeeded")
	}
}

func TestUnion(t *testing.T) {
	none := AuthenticatorFunc(func(context.Context) (*User, error) { return nil, nil })
	bad := AuthenticatorFunc(func(context.Context) (*User, error) { return nil, errors.New("bad credential") })
	good := AuthenticatorFunc(func(context.Context) (*User, error) { return &User{Name: "u"}, nil })
	ctx := context.Background()

	if u, err := NewUnion(none, none).Authenticate(ctx); u != nil || err != nil {
		t.Errorf("no credentials: (%v, %v), want (nil, nil)", u, err)
	}
	if u, err := NewUnion(bad, none).Authenticate(ctx); u != nil || err == nil || !strings.Contains(err.Error(), "bad credential") {
		t.Errorf("bad credential: (%v, %v)", u, err)
	}
	if u, err := NewUnion(bad, good).Authenticate(ctx); err != nil || u.Name != "u" {
		t.Errorf("bad then good: (%v, %v), want u", u, err)
	}
}
