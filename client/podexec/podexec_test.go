package podexec

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
)

// echoServer answers Logs with two chunks and Exec by echoing stdin to
// stdout, the command to stderr, and exiting with the stdin's length.
type echoServer struct {
	apiv1.UnimplementedPodServiceServer
	lastLogs *apiv1.PodLogsRequest
}

func (s *echoServer) Logs(req *apiv1.PodLogsRequest, stream grpc.ServerStreamingServer[apiv1.PodLogsResponse]) error {
	s.lastLogs = req
	if err := stream.Send(&apiv1.PodLogsResponse{Data: []byte("out\n"), Stream: "stdout"}); err != nil {
		return err
	}
	return stream.Send(&apiv1.PodLogsResponse{Data: []byte("err\n"), Stream: "stderr"})
}

func (s *echoServer) Exec(stream grpc.BidiStreamingServer[apiv1.PodExecRequest, apiv1.PodExecResponse]) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	if err := stream.Send(&apiv1.PodExecResponse{Stderr: []byte(strings.Join(first.GetStart().GetCommand(), " "))}); err != nil {
		return err
	}
	n := 0
	if first.GetStart().GetStdin() {
		for {
			req, err := stream.Recv()
			if err != nil {
				break
			}
			n += len(req.GetStdin())
			if len(req.GetStdin()) > 0 {
				if err := stream.Send(&apiv1.PodExecResponse{Stdout: req.GetStdin()}); err != nil {
					return err
				}
			}
			if req.GetCloseStdin() {
				break
			}
		}
	}
	return stream.Send(&apiv1.PodExecResponse{Exited: true, ExitCode: int32(n)})
}

func conn(t *testing.T, srv apiv1.PodServiceServer) *grpc.ClientConn {
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer()
	apiv1.RegisterPodServiceServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	c, err := grpc.NewClient("passthrough:///bufnet", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestLogs(t *testing.T) {
	srv := &echoServer{}
	c := conn(t, srv)
	var out, errb bytes.Buffer
	tail := int64(5)
	if err := Logs(context.Background(), c, LogOptions{Namespace: "ns", Name: "p", Container: "c", Follow: true, TailLines: &tail, Timestamps: true}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if out.String() != "out\n" || errb.String() != "err\n" {
		t.Errorf("stdout %q stderr %q", out.String(), errb.String())
	}
	r := srv.lastLogs
	if r.GetNamespace() != "ns" || r.GetName() != "p" || r.GetContainer() != "c" || !r.GetFollow() || r.GetTailLines() != 5 || !r.GetTimestamps() {
		t.Errorf("request %v", r)
	}
}

func TestExec(t *testing.T) {
	c := conn(t, &echoServer{})
	var out, errb bytes.Buffer
	code, err := Exec(context.Background(), c, ExecOptions{Namespace: "ns", Name: "p", Command: []string{"cat", "-"},
		Stdin: strings.NewReader("hello"), Stdout: &out, Stderr: &errb})
	if err != nil || code != 5 || out.String() != "hello" || errb.String() != "cat -" {
		t.Errorf("code %d err %v stdout %q stderr %q", code, err, out.String(), errb.String())
	}
	code, err = Exec(context.Background(), c, ExecOptions{Namespace: "ns", Name: "p", Command: []string{"true"}, Stdout: io.Discard})
	if err != nil || code != 0 {
		t.Errorf("without stdin: code %d err %v", code, err)
	}
}
