package docker

import (
	"context"
	"fmt"
	"io"
	"strconv"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"github.com/gantryhq/gantry/kubelet/internal/runtime"
)

// Exec implements runtime.Runtime.
func (r *Runtime) Exec(ctx context.Context, containerID string, opts runtime.ExecOptions) (int, error) {
	ex, err := r.cli.ExecCreate(ctx, containerID, client.ExecCreateOptions{
		Cmd:          opts.Command,
		AttachStdin:  opts.Stdin != nil,
		AttachStdout: true,
		AttachStderr: true,
		TTY:          opts.TTY,
	})
	if cerrdefs.IsNotFound(err) {
		return 0, fmt.Errorf("exec in %s: %w", containerID, runtime.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", containerID, err)
	}
	att, err := r.cli.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{TTY: opts.TTY})
	if err != nil {
		return 0, fmt.Errorf("exec attach: %w", err)
	}
	defer att.Close()
	stop := context.AfterFunc(ctx, func() { att.Close() })
	defer stop()
	if opts.Stdin != nil {
		go func() {
			_, _ = io.Copy(att.Conn, opts.Stdin)
			_ = att.CloseWrite()
		}()
	}
	stdout, stderr := opts.Stdout, opts.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	if opts.TTY {
		_, err = io.Copy(stdout, att.Reader)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, att.Reader)
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	if err != nil {
		return 0, fmt.Errorf("exec output: %w", err)
	}
	in, err := r.cli.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
	if err != nil {
		return 0, fmt.Errorf("exec inspect: %w", err)
	}
	return in.ExitCode, nil
}

// Logs implements runtime.Runtime.
func (r *Runtime) Logs(ctx context.Context, containerID string, opts runtime.LogOptions, stdout, stderr io.Writer) error {
	in, err := r.cli.ContainerInspect(ctx, containerID, client.ContainerInspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return fmt.Errorf("logs of %s: %w", containerID, runtime.ErrNotFound)
	}
	if err != nil {
		return err
	}
	lo := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: opts.Follow, Timestamps: opts.Timestamps, Tail: "all"}
	if opts.TailLines >= 0 {
		lo.Tail = strconv.FormatInt(opts.TailLines, 10)
	}
	if !opts.Since.IsZero() {
		lo.Since = strconv.FormatInt(opts.Since.Unix(), 10)
	}
	rc, err := r.cli.ContainerLogs(ctx, containerID, lo)
	if err != nil {
		return err
	}
	defer rc.Close()
	if in.Container.Config != nil && in.Container.Config.Tty {
		_, err = io.Copy(stdout, rc)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, rc)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}
