package devcluster

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gantryhq/gantry/client/config"
)

func admin() *config.File {
	return config.NewFile("gantry",
		config.Cluster{Server: "https://apiserver:6443", CertificateAuthorityData: []byte("CA")},
		config.User{ClientCertificateData: []byte("CERT"), ClientKeyData: []byte("KEY")},
		"default")
}

func TestMergeContext(t *testing.T) {
	devCluster := config.NamedCluster{Name: "dev", Cluster: config.Cluster{Server: "https://127.0.0.1:6443", CertificateAuthorityData: []byte("CA")}}
	devUser := config.NamedUser{Name: "dev", User: config.User{ClientCertificateData: []byte("CERT"), ClientKeyData: []byte("KEY")}}
	devContext := config.NamedContext{Name: "dev", Context: config.Context{Cluster: "dev", User: "dev", Namespace: "default"}}
	prod := func() *config.File {
		return config.NewFile("prod", config.Cluster{Server: "https://prod:6443"}, config.User{Token: "t"}, "web")
	}

	for _, tc := range []struct {
		name       string
		into       *config.File
		setCurrent bool
		want       *config.File
	}{
		{
			name: "no file yet", into: nil, setCurrent: true,
			want: &config.File{APIVersion: "v1", Kind: "Config", CurrentContext: "dev",
				Clusters: []config.NamedCluster{devCluster}, Contexts: []config.NamedContext{devContext}, Users: []config.NamedUser{devUser}},
		},
		{
			name: "other contexts kept, dev made current", into: prod(), setCurrent: true,
			want: &config.File{APIVersion: "v1", Kind: "Config", CurrentContext: "dev",
				Clusters: append(prod().Clusters, devCluster), Contexts: append(prod().Contexts, devContext), Users: append(prod().Users, devUser)},
		},
		{
			name: "other contexts kept, current kept", into: prod(), setCurrent: false,
			want: &config.File{APIVersion: "v1", Kind: "Config", CurrentContext: "prod",
				Clusters: append(prod().Clusters, devCluster), Contexts: append(prod().Contexts, devContext), Users: append(prod().Users, devUser)},
		},
		{
			name: "stale dev entries replaced in place",
			into: func() *config.File {
				f := config.NewFile("dev", config.Cluster{Server: "https://old:6443"}, config.User{Token: "old"}, "old-ns")
				f.Clusters = append(f.Clusters, prod().Clusters...)
				return f
			}(),
			setCurrent: true,
			want: &config.File{APIVersion: "v1", Kind: "Config", CurrentContext: "dev",
				Clusters: append([]config.NamedCluster{devCluster}, prod().Clusters...), Contexts: []config.NamedContext{devContext}, Users: []config.NamedUser{devUser}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before []byte
			if tc.into != nil {
				before, _ = config.Marshal(tc.into)
			}
			got, err := MergeContext(tc.into, admin(), "dev", "https://127.0.0.1:6443", tc.setCurrent)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("MergeContext (-want +got):\n%s", diff)
			}
			if tc.into != nil {
				after, _ := config.Marshal(tc.into)
				if string(before) != string(after) {
					t.Errorf("MergeContext changed its input")
				}
			}
			// The result must resolve to something a client can dial.
			data, err := config.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			f, err := config.Parse(data)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := f.Context("dev"); !ok {
				t.Errorf("written file has no dev context")
			}
		})
	}
}

func TestMergeContextRefusesFileReferences(t *testing.T) {
	a := admin()
	a.Clusters[0].Cluster.CertificateAuthority = "pki/ca.crt"
	a.Clusters[0].Cluster.CertificateAuthorityData = nil
	_, err := MergeContext(nil, a, "dev", "", true)
	if err == nil || !strings.Contains(err.Error(), "embedded") {
		t.Fatalf("MergeContext = %v, want an error about embedded data", err)
	}
}

func TestMergeContextMissingContext(t *testing.T) {
	a := admin()
	a.CurrentContext = "nope"
	if _, err := MergeContext(nil, a, "dev", "", true); err == nil {
		t.Fatal("MergeContext with a missing current context succeeded")
	}
}

func TestRemoveContext(t *testing.T) {
	merged := func(current bool) *config.File {
		prod := config.NewFile("prod", config.Cluster{Server: "https://prod:6443"}, config.User{Token: "t"}, "web")
		f, err := MergeContext(prod, admin(), "dev", "https://127.0.0.1:6443", current)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	prod := config.NewFile("prod", config.Cluster{Server: "https://prod:6443"}, config.User{Token: "t"}, "web")
	for _, tc := range []struct {
		name        string
		in          *config.File
		want        *config.File
		wantRemoved bool
	}{
		{"dev current: current falls back to prod", merged(true), prod, true},
		{"prod current stays", merged(false), prod, true},
		{"nothing to remove", prod, prod, false},
		{"last context: no current left", func() *config.File { f, _ := MergeContext(nil, admin(), "dev", "", true); return f }(),
			&config.File{APIVersion: "v1", Kind: "Config"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, removed := RemoveContext(tc.in, "dev")
			if removed != tc.wantRemoved {
				t.Errorf("removed = %v, want %v", removed, tc.wantRemoved)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("RemoveContext (-want +got):\n%s", diff)
			}
			if got.Clusters == nil || got.Contexts == nil || got.Users == nil {
				t.Errorf("RemoveContext left a nil list: %+v", got)
			}
		})
	}
}
