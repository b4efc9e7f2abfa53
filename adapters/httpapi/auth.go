package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Principal is the authenticated caller.
type Principal struct {
	Name string
	Role workitem.Role
}

// Token is one static bearer token: principal Name acting with Role.
type Token struct {
	Name  string
	Role  workitem.Role
	Value string
}

const principalKey = "codebridge.principal"

// PrincipalOf returns the caller of an authenticated request.
func PrincipalOf(c echo.Context) Principal {
	p, _ := c.Get(principalKey).(Principal)
	return p
}

// Authenticator resolves a bearer token to a principal. Static tokens are
// compared in constant time over their SHA-256 digests, so neither the
// token's content nor its length leaks through timing. With a JWTVerifier
// (UseJWT), bearer values shaped like a JWT are verified as JWTs instead.
type Authenticator struct {
	tokens   []hashedToken
	insecure bool
	jwt      *JWTVerifier
}

type hashedToken struct {
	sum       [32]byte
	principal Principal
}

// NewAuthenticator builds an Authenticator from static tokens. With
// insecure set and no tokens, every request acts as an admin "anonymous".
func NewAuthenticator(tokens []Token, insecure bool) *Authenticator {
	a := &Authenticator{insecure: insecure && len(tokens) == 0}
	for _, t := range tokens {
		a.tokens = append(a.tokens, hashedToken{sha256.Sum256([]byte(t.Value)), Principal{t.Name, t.Role}})
	}
	return a
}

// UseJWT sends bearer values shaped like a JWT (three dot-separated base64url
// parts) to v; other values still go to the static tokens. It also ends
// insecure mode: once JWTs are configured, every request authenticates.
func (a *Authenticator) UseJWT(v *JWTVerifier) *Authenticator {
	a.jwt = v
	a.insecure = false
	return a
}

// Authenticate returns the principal for an Authorization header value.
func (a *Authenticator) Authenticate(header string) (Principal, error) {
	return a.AuthenticateContext(context.Background(), header)
}

// AuthenticateContext is Authenticate with the request's context, which
// bounds a JWKS refresh caused by an unknown key id.
func (a *Authenticator) AuthenticateContext(ctx context.Context, header string) (Principal, error) {
	if a.insecure {
		return Principal{Name: "anonymous", Role: workitem.RoleAdmin}, nil
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	ok = ok && strings.EqualFold(scheme, "Bearer") // RFC 7235: the scheme is case-insensitive
	tok = strings.TrimSpace(tok)
	if !ok || tok == "" {
		return Principal{}, workitem.Errorf(workitem.Unauthorized, "missing bearer token")
	}
	if a.jwt != nil && looksLikeJWT(tok) {
		return a.jwt.Verify(ctx, tok)
	}
	return a.static(tok)
}

// static looks tok up among the static tokens, visiting every entry.
func (a *Authenticator) static(tok string) (Principal, error) {
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

// looksLikeJWT reports whether tok is three dot-separated base64url parts,
// the first two non-empty (an unsigned token's third part is empty: it is
// still sent to verification, which refuses it).
func looksLikeJWT(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for _, p := range parts {
		for _, r := range p {
			if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// authMiddleware authenticates every request of the group.
func (s *Server) authMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.auth.AuthenticateContext(c.Request().Context(), c.Request().Header.Get(echo.HeaderAuthorization))
		if err != nil {
			return err
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// Require lets only the given roles (and admin, always) through.
func Require(roles ...workitem.Role) echo.MiddlewareFunc {
	return RequireThat(func(r workitem.Role) error {
		if r.Permitted(roles...) {
			return nil
		}
		return workitem.Errorf(workitem.Forbidden, "role %s is not permitted", r)
	})
}

// RequireThat lets through only callers whose role rule allows (a domain
// rule such as workitem.MayAnswerQuery); others are Forbidden.
func RequireThat(rule func(workitem.Role) error) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := PrincipalOf(c)
			if rule(p.Role) != nil {
				return workitem.Errorf(workitem.Forbidden, "role %s may not %s %s", p.Role, c.Request().Method, c.Path())
			}
			return next(c)
		}
	}
}

// smartClaims are the claims codebridge reads from a JWT: the registered
// ones and the granted scopes, as "scope" (RFC 8693: a space-separated
// string) or "scp" (an array, as some issuers send it); either may take
// either form.
type smartClaims struct {
	jwt.RegisteredClaims
	Scope workitem.Scopes `json:"scope"`
	Scp   workitem.Scopes `json:"scp"`
}

// RoleFromScopes maps granted scopes to one role (workitem.RoleFromScopes
// with the clinical types codebridge accepts), for JWT bearer tokens and
// for other sign-ins on the same issuer (the workbench's OIDC sign-in).
// ok is false when no scope maps.
func RoleFromScopes(scopes []string) (role workitem.Role, ok bool) {
	return workitem.RoleFromScopes(scopes, mapping.IsSupported)
}
