package daemon

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/spf13/cobra"
)

func TestRunE(t *testing.T) {
	cases := []struct {
		name     string
		validate []error
		runErr   error
		wantRun  bool
		wantOut  string
	}{
		{name: "ok", wantRun: true},
		{name: "invalid", validate: []error{errors.New("--a is bad"), errors.New("--b is bad")}, wantOut: "d: --a is bad\n--b is bad\n"},
		{name: "run fails", runErr: errors.New("boom"), wantRun: true, wantOut: "d: boom\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ran := false
			var out bytes.Buffer
			cmd := &cobra.Command{}
			cmd.SetErr(&out)
			err := RunE("d", func() []error { return tc.validate }, func(ctx context.Context) error {
				ran = true
				if ctx == nil {
					t.Error("nil context")
				}
				return tc.runErr
			})(cmd, nil)
			if ran != tc.wantRun {
				t.Errorf("run called: %v, want %v", ran, tc.wantRun)
			}
			if (err != nil) != (tc.wantOut != "") || out.String() != tc.wantOut {
				t.Errorf("err %v, stderr %q; want stderr %q", err, out.String(), tc.wantOut)
			}
		})
	}
}
