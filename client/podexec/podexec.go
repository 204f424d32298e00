// Package podexec is the client side of the apiserver's PodService: a
// container's logs and exec into a container, as `gantry logs` and
// `gantry exec` need them. The apiserver proxies both to the kubelet of
// the pod's node.
//
//	err := podexec.Logs(ctx, cs.Conn(), podexec.LogOptions{Namespace: "default", Name: "web", Follow: true}, os.Stdout, os.Stderr)
//	code, err := podexec.Exec(ctx, cs.Conn(), podexec.ExecOptions{Namespace: "default", Name: "web",
//		Command: []string{"sh", "-c", "echo hi"}, Stdout: os.Stdout, Stderr: os.Stderr})
package podexec

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"

	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
)

// LogOptions select a container's logs.
type LogOptions struct {
	Namespace, Name string
	// Container may be empty for a pod with one container.
	Container string
	// Follow keeps streaming until the container stops or ctx ends.
	Follow bool
	// TailLines, when not nil, starts with that many last lines.
	TailLines *int64
	// Previous reads the instance before the container's last restart.
	Previous bool
	// Timestamps prefixes lines with their RFC 3339 time.
	Timestamps bool
	// SinceSeconds, when not nil, keeps only lines newer than that.
	SinceSeconds *int64
}

// Logs writes a container's logs to stdout and stderr (each as the
// container wrote them). It returns nil when the stream ends, and a gRPC
// status error (NotFound, FailedPrecondition, Unavailable, ...) otherwise.
// A cancelled ctx ends a followed stream without error.
func Logs(ctx context.Context, conn grpc.ClientConnInterface, o LogOptions, stdout, stderr io.Writer) error {
	stream, err := apiv1.NewPodServiceClient(conn).Logs(ctx, &apiv1.PodLogsRequest{
		Namespace: o.Namespace, Name: o.Name, Container: o.Container, Follow: o.Follow,
		TailLines: o.TailLines, Previous: o.Previous, Timestamps: o.Timestamps, SinceSeconds: o.SinceSeconds,
	})
	if err != nil {
		return err
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		w := stdout
		if resp.GetStream() == "stderr" && stderr != nil {
			w = stderr
		}
		if w == nil {
			continue
		}
		if _, err := w.Write(resp.GetData()); err != nil {
			return err
		}
	}
}

// ExecOptions say what to run where.
type ExecOptions struct {
	Namespace, Name string
	// Container may be empty for a pod with one container.
	Container string
	// Command is run directly, not in a shell. Required.
	Command []string
	// Stdin, when not nil, is copied to the command's standard input, which
	// is closed at its EOF.
	Stdin io.Reader
	// Stdout and Stderr receive the command's output; nil discards it.
	Stdout, Stderr io.Writer
	// TTY runs the command in a terminal (its stderr goes to Stdout).
	TTY bool
}

// Exec runs a command in a running container and returns its exit code.
// The error is a gRPC status error when the command could not be run.
func Exec(ctx context.Context, conn grpc.ClientConnInterface, o ExecOptions) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := apiv1.NewPodServiceClient(conn).Exec(ctx)
	if err != nil {
		return 0, err
	}
	err = stream.Send(&apiv1.PodExecRequest{Start: &apiv1.PodExecStart{
		Namespace: o.Namespace, Name: o.Name, Container: o.Container,
		Command: o.Command, Stdin: o.Stdin != nil, Tty: o.TTY,
	}})
	if err != nil {
		return 0, err
	}
	if o.Stdin != nil {
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := o.Stdin.Read(buf)
				if n > 0 {
					if stream.Send(&apiv1.PodExecRequest{Stdin: append([]byte(nil), buf[:n]...)}) != nil {
						return
					}
				}
				if err != nil {
					_ = stream.Send(&apiv1.PodExecRequest{CloseStdin: true})
					_ = stream.CloseSend()
					return
				}
			}
		}()
	} else {
		_ = stream.CloseSend()
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, errors.New("exec: stream ended without an exit code")
			}
			return 0, err
		}
		if len(resp.GetStdout()) > 0 && o.Stdout != nil {
			if _, err := o.Stdout.Write(resp.GetStdout()); err != nil {
				return 0, err
			}
		}
		if len(resp.GetStderr()) > 0 && o.Stderr != nil {
			if _, err := o.Stderr.Write(resp.GetStderr()); err != nil {
				return 0, err
			}
		}
		if resp.GetExited() {
			return int(resp.GetExitCode()), nil
		}
	}
}
