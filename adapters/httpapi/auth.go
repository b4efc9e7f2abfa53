package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Principal is the authenticated caller.
type Principal struct {
	Name string
	Role string
}

const principalKey = "codebridge.principal"

// PrincipalOf returns the caller of an authenticated request.
func PrincipalOf(c echo.Context) Principal {
	p, _ := c.Get(principalKey).(Principal)
	return p
}

// Authenticator resolves a bearer token to a principal. Static tokens are
// compared in constant time over their SHA-256 digests, so neither the
// token's content nor its length leaks through timing.
type Authenticator struct {
	tokens   []hashedToken
	insecure bool
}

type hashedToken struct {
	sum       [32]byte
	principal Principal
}

// NewAuthenticator builds an Authenticator from static tokens. With
// insecure set and no tokens, every request acts as an admin "anonymous".
func NewAuthenticator(tokens []config.Token, insecure bool) *Authenticator {
	a := &Authenticator{insecure: insecure && len(tokens) == 0}
	for _, t := range tokens {
		a.tokens = append(a.tokens, hashedToken{sha256.Sum256([]byte(t.Value)), Principal{t.Name, t.Role}})
	}
	return a
}

// Authenticate returns the principal for an Authorization header value.
func (a *Authenticator) Authenticate(header string) (Principal, error) {
	if a.insecure {
		return Principal{Name: "anonymous", Role: config.RoleAdmin}, nil
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	ok = ok && strings.EqualFold(scheme, "Bearer") // RFC 7235: the scheme is case-insensitive
	tok = strings.TrimSpace(tok)
	if !ok || tok == "" {
		return Principal{}, workitem.Errorf(workitem.Unauthorized, "missing bearer token")
	}
	sum := sha256.Sum256([]byte(tok))
	var found Principal
	match := 0
	for _, t := range a.tokens {
		eq := subtle.ConstantTimeCompare(sum[:], t.sum[:])
		if eq == 1 {
			found = t.principal
		}
		match |= eq
	}
	if match == 0 {
		return Principal{}, workitem.Errorf(workitem.Unauthorized, "unknown bearer token")
	}
	return found, nil
}

// authMiddleware authenticates every request of the group.
func (s *Server) authMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.auth.Authenticate(c.Request().Header.Get(echo.HeaderAuthorization))
		if err != nil {
			return err
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// Require lets only the given roles (and admin, always) through.
func Require(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := PrincipalOf(c)
			if p.Role == config.RoleAdmin {
				return next(c)
			}
			for _, r := range roles {
				if p.Role == r {
					return next(c)
				}
			}
			return workitem.Errorf(workitem.Forbidden, "role %s may not %s %s", p.Role, c.Request().Method, c.Path())
		}
	}
}
