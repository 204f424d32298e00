package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"google.golang.org/grpc/metadata"
)

// TokenAuthenticator authenticates a request by the bearer token in its
// "authorization" metadata ("Bearer <token>"), against a fixed set of
// tokens such as a static token file. A request without a bearer token
// carries no credentials; an unknown token is an error.
type TokenAuthenticator struct {
	tokens map[[sha256.Size]byte]tokenEntry
}

type tokenEntry struct {
	token string
	user  *User
}

var _ Authenticator = (*TokenAuthenticator)(nil)

// NewTokenAuthenticator returns a TokenAuthenticator for tokens, a map from
// token to user. The map and users are copied.
func NewTokenAuthenticator(tokens map[string]*User) *TokenAuthenticator {
	a := &TokenAuthenticator{tokens: make(map[[sha256.Size]byte]tokenEntry, len(tokens))}
	for tok, u := range tokens {
		a.tokens[sha256.Sum256([]byte(tok))] = tokenEntry{token: tok, user: u.clone()}
	}
	return a
}

// LoadTokenFile reads a static token file (--token-auth-file).
func LoadTokenFile(path string) (*TokenAuthenticator, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	return ParseTokenFile(f, path)
}

// ParseTokenFile reads a static token file in Kubernetes' CSV format, one
// token a line:
//
//	token,user,uid,"group1,group2"
//
// The groups column may be left out. Blank lines are skipped. A line with
// fewer than three columns or more than four, an empty token or user, or a
// token already given on an earlier line is an error that names name and
// the line number.
func ParseTokenFile(r io.Reader, name string) (*TokenAuthenticator, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	tokens := map[string]*User{}
	lines := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("token file %s: line %d: %v", name, pe.StartLine, pe.Err)
			}
			return nil, fmt.Errorf("token file %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		bad := func(format string, args ...any) error {
			return fmt.Errorf("token file %s: line %d: %s", name, line, fmt.Sprintf(format, args...))
		}
		switch {
		case len(rec) < 3:
			return nil, bad("want at least 3 columns (token, user name, user uid), found %d", len(rec))
		case len(rec) > 4:
			return nil, bad("want at most 4 columns (token, user name, user uid, groups), found %d; quote a list of groups", len(rec))
		}
		tok, user, uid := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])
		switch {
		case tok == "":
			return nil, bad("empty token")
		case user == "":
			return nil, bad("empty user name")
		}
		if first, dup := lines[tok]; dup {
			return nil, bad("duplicate token (first on line %d)", first)
		}
		u := &User{Name: user, UID: uid}
		if len(rec) == 4 {
			for g := range strings.SplitSeq(rec[3], ",") {
				if g = strings.TrimSpace(g); g != "" {
					u.Groups = append(u.Groups, g)
				}
			}
		}
		tokens[tok] = u
		lines[tok] = line
	}
	return NewTokenAuthenticator(tokens), nil
}

// Authenticate implements Authenticator.
func (a *TokenAuthenticator) Authenticate(ctx context.Context) (*User, error) {
	tok, ok := BearerToken(ctx)
	if !ok {
		return nil, nil
	}
	// Look up by digest, then compare in constant time, so that neither the
	// map nor the comparison leaks how much of a guess was right.
	e, found := a.tokens[sha256.Sum256([]byte(tok))]
	if !found || subtle.ConstantTimeCompare([]byte(e.token), []byte(tok)) != 1 {
		return nil, errors.New("token: invalid bearer token")
	}
	return e.user.clone(), nil
}

// BearerToken returns the token of the first "authorization: Bearer
// <token>" metadata of an incoming request. The scheme is matched without
// regard to case; other schemes and empty tokens are ignored.
func BearerToken(ctx context.Context) (string, bool) {
	for _, v := range metadata.ValueFromIncomingContext(ctx, "authorization") {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(v), " ")
		if !ok || !strings.EqualFold(scheme, "bearer") {
			continue
		}
		if tok = strings.TrimSpace(tok); tok != "" {
			return tok, true
		}
	}
	return "", false
}
