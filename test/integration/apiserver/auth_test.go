package apiserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gantryhq/gantry/apiserver/apiservertest"
	"github.com/gantryhq/gantry/client"
	"github.com/gantryhq/gantry/client/config"
	"github.com/gantryhq/gantry/test/integration/framework"
)

func TestAuthentication(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(tokens, []byte("s3cret,alice,1001,\"dev,ops\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := framework.StartAPIServer(t, apiservertest.Options{TokenAuthFile: tokens})
	admin, err := config.Load(s.ConfigPath)
	if err != nil {
		t.Fatal(err)
	}
	cluster := admin.Clusters[0].Cluster

	foreignCert, foreignKey := selfSignedClientCert(t)
	cases := []struct {
		name string
		user config.User
		want codes.Code
	}{
		{"admin certificate", admin.Users[0].User, codes.OK},
		{"known token", config.User{Token: "s3cret"}, codes.OK},
		{"no credentials", config.User{}, codes.Unauthenticated},
		{"unknown token", config.User{Token: "guess"}, codes.Unauthenticated},
		{"certificate from another CA", config.User{ClientCertificateData: foreignCert, ClientKeyData: foreignKey}, codes.Unauthenticated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := config.NewFile("test", cluster, tc.user, "default")
			cfg, err := f.Resolve("")
			if err != nil {
				t.Fatal(err)
			}
			cs, err := client.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err = cs.Namespaces().Get(ctx, "default")
			if got := status.Code(err); got != tc.want {
				t.Fatalf("get namespace: code %v (%v), want %v", got, err, tc.want)
			}
		})
	}
}

// selfSignedClientCert makes a client certificate that no Gantry CA signed.
func selfSignedClientCert(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("CERTIFICATE", der), pemBlock("EC PRIVATE KEY", keyDER)
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}
