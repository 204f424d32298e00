package cmd

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// gitVersion is the client's version, set at build time with
// -ldflags "-X github.com/gantryhq/gantry/cli/internal/cmd.gitVersion=v1.2.3".
var gitVersion = "v0.1.0-dev"

// versionInfo is kubectl's version.Info, for the fields Gantry has.
type versionInfo struct {
	GitVersion string `json:"gitVersion"`
	GitCommit  string `json:"gitCommit,omitempty"`
	GoVersion  string `json:"goVersion"`
	Compiler   string `json:"compiler"`
	Platform   string `json:"platform"`
}

type versions struct {
	ClientVersion *versionInfo `json:"clientVersion,omitempty"`
	ServerVersion *versionInfo `json:"serverVersion,omitempty"`
}

func clientVersion() *versionInfo {
	v := &versionInfo{GitVersion: gitVersion, GoVersion: runtime.Version(), Compiler: runtime.Compiler,
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v.GitCommit = s.Value
			}
		}
	}
	return v
}

func newVersionCommand(f *Factory) *cobra.Command {
	var clientOnly bool
	var output string
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the client and server version information",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if output != "" && output != "json" && output != "yaml" {
				return fmt.Errorf("--output must be 'yaml' or 'json'")
			}
			v := versions{ClientVersion: clientVersion()}
			var serverErr error
			if !clientOnly {
				cs, err := f.Client()
				if err == nil {
					var resp interface {
						GetGitVersion() string
						GetGoVersion() string
						GetPlatform() string
					}
					resp, err = cs.Version(c.Context())
					if err == nil {
						v.ServerVersion = &versionInfo{GitVersion: resp.GetGitVersion(), GoVersion: resp.GetGoVersion(),
							Compiler: "gc", Platform: resp.GetPlatform()}
					}
				}
				serverErr = err
			}
			switch output {
			case "":
				fmt.Fprintf(f.Out, "Client Version: %s\n", v.ClientVersion.GitVersion)
				if v.ServerVersion != nil {
					fmt.Fprintf(f.Out, "Server Version: %s\n", v.ServerVersion.GitVersion)
				}
			case "json":
				b, err := json.MarshalIndent(v, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintln(f.Out, string(b))
			case "yaml":
				b, err := yaml.Marshal(v)
				if err != nil {
					return err
				}
				f.Out.Write(b)
			}
			return serverErr
		},
	}
	c.Flags().BoolVar(&clientOnly, "client", false, "If true, shows client version only (no server required).")
	c.Flags().StringVarP(&output, "output", "o", "", "One of 'yaml' or 'json'.")
	return c
}
