package client_test

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gantryhq/gantry/client"
)

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"not a status", errors.New("boom"), ""},
		{"attached Invalid", client.StatusError(codes.InvalidArgument, client.ReasonInvalid, "x is invalid"), client.ReasonInvalid},
		{"attached BadRequest", client.StatusError(codes.InvalidArgument, client.ReasonBadRequest, "bad token"), client.ReasonBadRequest},
		{"wrapped keeps the detail", fmt.Errorf("create: %w", client.StatusError(codes.InvalidArgument, client.ReasonInvalid, "x")), client.ReasonInvalid},
		{"code only: InvalidArgument", status.Error(codes.InvalidArgument, "x"), client.ReasonBadRequest},
		{"code only: NotFound", status.Error(codes.NotFound, "x"), client.ReasonNotFound},
		{"code only: PermissionDenied", status.Error(codes.PermissionDenied, "x"), client.ReasonForbidden},
		{"code only: Unknown", status.Error(codes.Unknown, "x"), client.ReasonInternalError},
	} {
		if got := client.Reason(tc.err); got != tc.want {
			t.Errorf("%s: Reason = %q, want %q", tc.name, got, tc.want)
		}
	}
	invalid := client.StatusError(codes.InvalidArgument, client.ReasonInvalid, "x")
	if !client.IsInvalid(invalid) || client.IsBadRequest(invalid) || status.Code(invalid) != codes.InvalidArgument {
		t.Errorf("Invalid error: IsInvalid %v IsBadRequest %v code %v", client.IsInvalid(invalid), client.IsBadRequest(invalid), status.Code(invalid))
	}
}
