package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// JWTOptions configure JWT bearer verification against a JWKS.
type JWTOptions struct {
	JWKSURL string // where the issuer publishes its signing keys
	// LogURL is JWKSURL as logs may show it, any secret in it redacted by
	// the caller; "" logs no URL.
	LogURL   string
	Issuer   string // required "iss"
	Audience string // required in "aud"
	// Leeway absorbs clock skew on exp, nbf and iat; 0 means 30s.
	Leeway time.Duration
	// RefreshInterval is how often the JWKS is fetched in the background;
	// 0 means 15 minutes.
	RefreshInterval time.Duration
	// RefreshUnknownKID bounds the refreshes tokens with an unknown kid may
	// cause: at most one per this interval (0 means 30s). A token whose kid
	// is still unknown after it, or that comes while the limit holds (for
	// more than 5s), is refused.
	RefreshUnknownKID time.Duration
	// HTTPClient fetches the JWKS; nil means a client with a 10s timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Registry, when set, gets codebridge_jwt_rejected_total by reason.
	Registry *prometheus.Registry
}

// JWTVerifier checks RS256/ES256 JWTs against the keys of a JWKS (kept
// fresh in the background) and maps their SMART-style scopes to a role.
// Close stops its background refresh.
type JWTVerifier struct {
	parser   *jwt.Parser
	keys     keyfunc.Keyfunc
	cancel   context.CancelFunc
	log      *slog.Logger
	rejected *prometheus.CounterVec
}

// errBadToken is the one answer to every token that fails verification: the
// reason goes to the debug log, never to the caller.
var errBadToken = workitem.Errorf(workitem.Unauthorized, "invalid bearer token")

// NewJWTVerifier fetches the JWKS once (a failure is logged, not fatal: keys
// are fetched again on the next refresh or unknown kid) and starts the
// background refresh.
func NewJWTVerifier(o JWTOptions) (*JWTVerifier, error) {
	if o.JWKSURL == "" || o.Issuer == "" || o.Audience == "" {
		return nil, errors.New("httpapi.NewJWTVerifier: JWKS URL, issuer and audience are all required")
	}
	o = jwtDefaults(o)
	ctx, cancel := context.WithCancel(context.Background())
	keys, err := newJWKS(ctx, o)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("httpapi.NewJWTVerifier: %w", err)
	}
	v := &JWTVerifier{
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{"RS256", "ES256"}),
			jwt.WithIssuer(o.Issuer),
			jwt.WithAudience(o.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(o.Leeway),
		),
		keys: keys, cancel: cancel, log: o.Logger,
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "codebridge_jwt_rejected_total",
			Help: "JWT bearer tokens refused, by reason.",
		}, []string{"reason"}),
	}
	if o.Registry != nil {
		o.Registry.MustRegister(v.rejected)
	}
	return v, nil
}

// newJWKS fetches the JWKS and keeps it fresh until ctx ends.
func newJWKS(ctx context.Context, o JWTOptions) (keyfunc.Keyfunc, error) {
	log := o.Logger
	return keyfunc.NewDefaultOverrideCtx(ctx, []string{o.JWKSURL}, keyfunc.Override{
		Client:            o.HTTPClient,
		HTTPTimeout:       o.HTTPClient.Timeout,
		RefreshInterval:   o.RefreshInterval,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(o.RefreshUnknownKID), 1),
		// Bounds both the wait for the limit and the refresh itself (with
		// the request's context): a token whose kid is unknown waits at
		// most this long, and at once fails if the limit frees up later.
		RateLimitWaitMax: 5 * time.Second,
		RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				log.WarnContext(ctx, "jwks refresh failed", "jwks_url", o.LogURL, "error", err.Error())
			}
		},
	})
}

func jwtDefaults(o JWTOptions) JWTOptions {
	if o.Leeway <= 0 {
		o.Leeway = 30 * time.Second
	}
	if o.RefreshInterval <= 0 {
		o.RefreshInterval = 15 * time.Minute
	}
	if o.RefreshUnknownKID <= 0 {
		o.RefreshUnknownKID = 30 * time.Second
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if o.HTTPClient.Timeout <= 0 {
		c := *o.HTTPClient
		c.Timeout = 10 * time.Second
		o.HTTPClient = &c
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Close stops the background JWKS refresh.
func (v *JWTVerifier) Close() { v.cancel() }

// Verify checks raw and answers its principal: sub as the name, the role
// from its scopes (see RoleFromScopes). A token that fails any check is
// Unauthorized with a generic message; a valid token that grants no
// codebridge role is Forbidden.
func (v *JWTVerifier) Verify(ctx context.Context, raw string) (Principal, error) {
	var cl smartClaims
	if _, err := v.parser.ParseWithClaims(raw, &cl, v.keys.KeyfuncCtx(ctx)); err != nil {
		return Principal{}, v.reject(ctx, rejectReason(err))
	}
	if !workitem.ValidActorName(cl.Subject) {
		return Principal{}, v.reject(ctx, "bad_subject")
	}
	role, ok := RoleFromScopes(append(cl.Scope, cl.Scp...))
	if !ok {
		v.rejected.WithLabelValues("no_role").Inc()
		v.log.DebugContext(ctx, "jwt grants no codebridge role", "principal", cl.Subject)
		return Principal{}, workitem.Errorf(workitem.Forbidden, "the token grants no codebridge role")
	}
	return Principal{Name: cl.Subject, Role: role}, nil
}

func (v *JWTVerifier) reject(ctx context.Context, reason string) error {
	v.rejected.WithLabelValues(reason).Inc()
	v.log.DebugContext(ctx, "jwt rejected", "reason", reason)
	return errBadToken
}

// rejectReason names why a token failed, from a fixed set: library error
// texts may quote parts of the token (a kid), so they are never logged.
func rejectReason(err error) string {
	for _, r := range []struct {
		target error
		reason string
	}{
		{jwt.ErrTokenMalformed, "malformed"},
		{jwt.ErrTokenExpired, "expired"},
		{jwt.ErrTokenNotValidYet, "not_yet_valid"},
		{jwt.ErrTokenUsedBeforeIssued, "issued_in_future"},
		{jwt.ErrTokenInvalidIssuer, "issuer"},
		{jwt.ErrTokenInvalidAudience, "audience"},
		{jwt.ErrTokenRequiredClaimMissing, "claim_missing"},
		{jwkset.ErrKeyNotFound, "unknown_kid"},
		{keyfunc.ErrKeyfunc, "key_lookup"}, // refresh rate-limited, or the key's alg differs
		{jwt.ErrTokenSignatureInvalid, "signature"},
		{jwt.ErrTokenUnverifiable, "unverifiable"},
		{jwt.ErrTokenInvalidClaims, "claims"},
	} {
		if errors.Is(err, r.target) {
			return r.reason
		}
	}
	return "other"
}
