package auth

import (
	"context"
	"slices"
)

// Well-known groups.
const (
	// GroupAuthenticated is added to every authenticated user, as
	// Kubernetes does.
	GroupAuthenticated = "system:authenticated"
	// GroupMasters is the group of cluster administrators.
	GroupMasters = "system:masters"
)

// User is an authenticated identity.
type User struct {
	// Name is the user name: a certificate's CN, or the token file's user.
	Name string
	// UID is a stable identifier, when the credential carries one.
	UID string
	// Groups the user belongs to: a certificate's O values, or the token
	// file's groups.
	Groups []string
}

// InGroup reports whether u is in group g.
func (u *User) InGroup(g string) bool { return u != nil && slices.Contains(u.Groups, g) }

func (u *User) clone() *User {
	if u == nil {
		return nil
	}
	c := *u
	c.Groups = slices.Clone(u.Groups)
	return &c
}

type userKey struct{}

// WithUser returns a context that carries u.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user the interceptors authenticated for this
// request, and false for an exempt method or a context that never passed
// them. The user must not be changed.
func UserFrom(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(userKey{}).(*User)
	return u, ok && u != nil
}
