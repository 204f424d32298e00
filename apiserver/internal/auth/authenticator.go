package auth

import (
	"context"
	"errors"
)

// Authenticator finds out who sent a request from its context (the TLS
// peer, the incoming metadata).
//
// Authenticate returns the user when the request carries valid credentials
// of the kind the authenticator knows; (nil, nil) when it carries none of
// that kind, so that another authenticator may try; and an error when it
// carries such credentials but they are not valid (an unknown token). The
// returned User belongs to the caller.
type Authenticator interface {
	Authenticate(ctx context.Context) (*User, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context) (*User, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context) (*User, error) { return f(ctx) }

// NewUnion returns an Authenticator that tries each of auths in order and
// returns the first user found. When none finds one, it returns the errors
// of those that rejected credentials, joined, or (nil, nil) when no
// credentials were presented at all.
func NewUnion(auths ...Authenticator) Authenticator {
	return union(auths)
}

type union []Authenticator

func (u union) Authenticate(ctx context.Context) (*User, error) {
	var errs []error
	for _, a := range u {
		user, err := a.Authenticate(ctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if user != nil {
			return user, nil
		}
	}
	return nil, errors.Join(errs...)
}
