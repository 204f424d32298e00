package cmd

import (
	"errors"
	"fmt"
	"regexp"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gantryhq/gantry/client"
)

// opError is an error of one step ("error when creating \"web.yaml\"")
// around a server error; FormatError keeps the server error's reason.
type opError struct {
	prefix string
	err    error
}

func (e *opError) Error() string { return e.prefix + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

func errWhen(verb, source string, err error) error {
	return &opError{prefix: fmt.Sprintf("error when %s %q", verb, source), err: err}
}

// refused finds the address in a gRPC "connection refused" message.
var refused = regexp.MustCompile(`dial tcp ([^ ]+): connect: connection refused`)

// serverStatus finds a gRPC status inside err.
func serverStatus(err error) (*status.Status, bool) {
	var se interface{ GRPCStatus() *status.Status }
	if errors.As(err, &se) {
		return se.GRPCStatus(), true
	}
	return nil, false
}

// FormatError writes err in kubectl's words: `Error from server (NotFound):
// pods "x" not found`, `error: ...` for errors of the client.
func FormatError(err error) string {
	s, ok := serverStatus(err)
	if !ok {
		return "error: " + err.Error()
	}
	msg := s.Message()
	var oe *opError
	if errors.As(err, &oe) {
		msg = oe.prefix + ": " + msg
	}
	switch s.Code() {
	case codes.Unavailable:
		if m := refused.FindStringSubmatch(s.Message()); m != nil {
			return fmt.Sprintf("The connection to the server %s was refused - did you specify the right host or port?", m[1])
		}
		return "Unable to connect to the server: " + s.Message()
	case codes.Unauthenticated:
		return "error: You must be logged in to the server (" + msg + ")"
	case codes.Canceled:
		return "error: " + msg
	}
	return fmt.Sprintf("Error from server (%s): %s", client.Reason(s.Err()), msg)
}
