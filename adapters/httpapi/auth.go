package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping"
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
func NewAuthenticator(tokens []config.Token, insecure bool) *Authenticator {
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
		return Principal{Name: "anonymous", Role: config.RoleAdmin}, nil
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

// smartClaims are the claims codebridge reads from a JWT: the registered
// ones and the granted scopes, as "scope" (RFC 8693: a space-separated
// string) or "scp" (an array, as some issuers send it); either may take
// either form.
type smartClaims struct {
	jwt.RegisteredClaims
	Scope scopeList `json:"scope"`
	Scp   scopeList `json:"scp"`
}

// scopeList is a scope claim: a space-separated string or an array.
type scopeList []string

// UnmarshalJSON accepts a space-separated string or an array of strings.
func (l *scopeList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = strings.Fields(s)
		return nil
	}
	var arr []string
	if err := json.Unmarshal(b, &arr); err != nil {
		return err
	}
	*l = nil
	for _, s := range arr {
		*l = append(*l, strings.Fields(s)...)
	}
	return nil
}

// RoleScopePrefix starts the codebridge-specific scopes that grant a role
// explicitly: codebridge/role.admin, codebridge/role.auditor, and so on for
// every role.
const RoleScopePrefix = "codebridge/role."

// roleRank orders the roles by privilege, least first.
var roleRank = map[string]int{config.RoleBiller: 1, config.RoleEHR: 2, config.RoleCoder: 3, config.RoleAuditor: 4, config.RoleAdmin: 5}

// roleFromScopes maps granted scopes to one role (README "JWT
// authentication" has the table):
//
//	system/{clinical type or *}.write|*|c,u,d (SMART v2)  ehr
//	user/*.write|*|c,u,d                                  coder
//	system|user/{Claim or *}.read|r,s                     biller
//	codebridge/role.{role}                                that role, explicitly
//
// Explicit codebridge/role.* grants win, and among them the most privileged.
// Without one, a write scope on clinical types makes the EHR role (whatever
// read scopes come with it); otherwise, when the SMART-derived roles differ,
// the least privileged is taken, since no scope granted the stronger one
// explicitly. patient/ scopes, query-restricted SMART v2 scopes and unknown
// scopes map to nothing. ok is false when no scope maps.
func roleFromScopes(scopes []string) (role string, ok bool) {
	var explicit, derived string
	for _, s := range scopes {
		if r, isRole := strings.CutPrefix(s, RoleScopePrefix); isRole {
			if roleRank[r] > roleRank[explicit] {
				explicit = r
			}
			continue
		}
		r := smartRole(s)
		switch {
		case r == "" || derived == config.RoleEHR:
		case r == config.RoleEHR:
			// A client granted writes on clinical types is an EHR client; the
			// read scopes that come with them (SMART v1 system/*.read
			// system/*.write) do not demote it to biller.
			derived = r
		case derived == "" || roleRank[r] < roleRank[derived]:
			derived = r
		}
	}
	if explicit != "" {
		return explicit, true
	}
	return derived, derived != ""
}

// RoleFromScopes maps granted scopes to one role exactly as JWT bearer
// tokens are mapped (see roleFromScopes), for other sign-ins on the same
// issuer (the workbench's OIDC sign-in). ok is false when no scope maps.
func RoleFromScopes(scopes []string) (role string, ok bool) { return roleFromScopes(scopes) }

// smartRole maps one SMART scope (context/Type.permissions) to a role, or "".
func smartRole(scope string) string {
	scopeCtx, rest, ok := strings.Cut(scope, "/")
	if !ok {
		return ""
	}
	typ, perm, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(perm, "?") {
		return "" // a v2 query restriction cannot be enforced here: grant nothing
	}
	read, write := smartPermissions(perm)
	switch {
	case scopeCtx == "system" && write && (typ == "*" || mapping.IsSupported(typ)):
		return config.RoleEHR
	case scopeCtx == "user" && write && typ == "*":
		return config.RoleCoder
	case (scopeCtx == "system" || scopeCtx == "user") && read && (typ == "*" || typ == "Claim"):
		return config.RoleBiller
	}
	return ""
}

// smartPermissions reads SMART v1 (read, write, *) and v2 (an in-order
// subset of "cruds") permissions.
func smartPermissions(p string) (read, write bool) {
	switch p {
	case "read":
		return true, false
	case "write":
		return false, true
	case "*":
		return true, true
	case "":
		return false, false
	}
	rest := "cruds"
	for _, r := range p {
		i := strings.IndexRune(rest, r)
		if i < 0 {
			return false, false
		}
		rest = rest[i+1:]
	}
	return strings.ContainsAny(p, "rs"), strings.ContainsAny(p, "cud")
}
