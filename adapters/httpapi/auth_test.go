package httpapi

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/mapping/workitem"
)

const (
	testIssuer   = "https://idp.example.test"
	testAudience = "codebridge-test"
)

// signingKey is a key the test issuer signs with, published under kid.
type signingKey struct {
	kid string
	alg string
	key crypto.Signer
}

func newRSAKey(t testing.TB, kid string) signingKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid, "RS256", k}
}

func newECKey(t testing.TB, kid string) signingKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid, "ES256", k}
}

// jwk is the public JWK of k, written out by hand so the test does not
// lean on the library it tests.
func (k signingKey) jwk(t testing.TB) map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	switch pub := k.key.Public().(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "kid": k.kid, "alg": k.alg, "use": "sig",
			"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes())}
	case *ecdsa.PublicKey:
		pt, err := pub.ECDH()
		if err != nil {
			t.Fatal(err)
		}
		raw := pt.Bytes() // 0x04 || X || Y
		return map[string]string{"kty": "EC", "kid": k.kid, "alg": k.alg, "use": "sig", "crv": "P-256",
			"x": b64(raw[1:33]), "y": b64(raw[33:65])}
	}
	t.Fatalf("unexpected key type %T", k.key)
	return nil
}

// jwksServer publishes a JWK Set that tests can replace (key rotation).
type jwksServer struct {
	*httptest.Server
	mu   sync.Mutex
	body []byte
}

func newJWKSServer(t testing.TB, keys ...signingKey) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.publish(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) publish(t testing.TB, keys ...signingKey) {
	t.Helper()
	set := map[string][]map[string]string{"keys": {}}
	for _, k := range keys {
		set["keys"] = append(set["keys"], k.jwk(t))
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.body = b
	s.mu.Unlock()
}

// claims are valid claims for sub with the given scope; edit sets more.
func claims(sub, scope string, edit ...func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "sub": sub, "scope": scope,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	for _, f := range edit {
		f(c)
	}
	return c
}

func mint(t testing.TB, k signingKey, c jwt.MapClaims) string {
	t.Helper()
	m := jwt.GetSigningMethod(k.alg)
	tok := jwt.NewWithClaims(m, c)
	tok.Header["kid"] = k.kid
	s, err := tok.SignedString(k.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newTestVerifier(t testing.TB, url string, log *slog.Logger, edit ...func(*JWTOptions)) *JWTVerifier {
	t.Helper()
	o := JWTOptions{JWKSURL: url, Issuer: testIssuer, Audience: testAudience, Logger: log, Registry: prometheus.NewRegistry()}
	for _, f := range edit {
		f(&o)
	}
	v, err := NewJWTVerifier(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

// jwtServer is a test server whose authenticator takes testTokens and
// JWTs from the issuer behind jwks; logs go to the returned buffer.
func jwtServer(t testing.TB, jwks *jwksServer, edit ...func(*JWTOptions)) (*Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	auth := NewAuthenticator(testTokens, false).UseJWT(newTestVerifier(t, jwks.URL, log, edit...))
	s := New(Options{Logger: log, Registry: prometheus.NewRegistry(), Auth: auth})
	return s, logs
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// whoami asks the server who token is: the status and, on 200, the role.
func whoami(t testing.TB, s *Server, token string) (int, string, *httptest.ResponseRecorder) {
	t.Helper()
	rec := do(t, s, "GET", "/api/v1/whoami", token, "")
	var p struct{ Name, Role string }
	if rec.Code == 200 {
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		return rec.Code, p.Name + ":" + p.Role, rec
	}
	return rec.Code, "", rec
}

func TestJWTValidTokensMapScopesToRoles(t *testing.T) {
	rsaKey, ecKey := newRSAKey(t, "rsa-1"), newECKey(t, "ec-1")
	s, _ := jwtServer(t, newJWKSServer(t, rsaKey, ecKey))
	tests := []struct {
		name string
		key  signingKey
		c    jwt.MapClaims
		want string
	}{
		{"RS256 encounter write", rsaKey, claims("emr-a", "system/Encounter.write"), "emr-a:ehr"},
		{"ES256 condition write", ecKey, claims("emr-b", "openid system/Condition.write"), "emr-b:ehr"},
		{"RS256 system wildcard write", rsaKey, claims("emr-c", "system/*.write"), "emr-c:ehr"},
		{"ES256 SMART v2 create+update", ecKey, claims("emr-d", "system/Procedure.cu"), "emr-d:ehr"},
		{"ES256 claim read as scp array", ecKey, claims("billing", "", func(c jwt.MapClaims) {
			delete(c, "scope")
			c["scp"] = []string{"system/Claim.read"}
		}), "billing:biller"},
		{"RS256 SMART v2 claim read+search", rsaKey, claims("billing2", "system/Claim.rs"), "billing2:biller"},
		{"RS256 user wildcard", rsaKey, claims("coder-7", "user/*.*"), "coder-7:coder"},
		{"ES256 explicit auditor", ecKey, claims("qa-1", "codebridge/role.auditor"), "qa-1:auditor"},
		{"RS256 explicit admin", rsaKey, claims("ops", "openid codebridge/role.admin"), "ops:admin"},
		{"explicit roles: most privileged", rsaKey, claims("lead", "codebridge/role.coder codebridge/role.auditor"), "lead:auditor"},
		{"explicit role beats derived", rsaKey, claims("x", "system/*.write codebridge/role.biller"), "x:biller"},
		{"write scope with reads: an EHR client", rsaKey, claims("mixed", "system/Encounter.write system/Claim.read"), "mixed:ehr"},
		{"derived roles disagree: least privileged", rsaKey, claims("mixed2", "user/*.* system/Claim.read"), "mixed2:biller"},
		{"exp within leeway", ecKey, claims("late", "user/*.*", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-10 * time.Second).Unix() }), "late:coder"},
		{"aud as array", rsaKey, claims("multi", "user/*.*", func(c jwt.MapClaims) { c["aud"] = []string{"other", testAudience} }), "multi:coder"},
	}
	for _, tt := range tests {
		code, got, rec := whoami(t, s, mint(t, tt.key, tt.c))
		if code != 200 {
			t.Errorf("%s: status %d %s", tt.name, code, rec.Body)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: principal mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestJWTInvalidTokensAre401(t *testing.T) {
	rsaKey, ecKey := newRSAKey(t, "rsa-1"), newECKey(t, "ec-1")
	other := newRSAKey(t, "rsa-1") // same kid, different key: a forged signature
	s, logs := jwtServer(t, newJWKSServer(t, rsaKey, ecKey))
	pubDER, err := x509.MarshalPKIXPublicKey(rsaKey.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims("mallory", "codebridge/role.admin"))
	hs.Header["kid"] = "rsa-1"
	hsTok, err := hs.SignedString(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	none := jwt.NewWithClaims(jwt.SigningMethodNone, claims("mallory", "codebridge/role.admin"))
	none.Header["kid"] = "rsa-1"
	noneTok, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	valid := mint(t, rsaKey, claims("emr", "system/*.write"))
	parts := strings.Split(valid, ".")
	tests := []struct {
		name, token string
	}{
		{"expired", mint(t, rsaKey, claims("emr", "system/*.write", func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-2 * time.Minute).Unix() }))},
		{"no exp", mint(t, rsaKey, claims("emr", "system/*.write", func(c jwt.MapClaims) { delete(c, "exp") }))},
		{"not yet valid", mint(t, ecKey, claims("emr", "system/*.write", func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(5 * time.Minute).Unix() }))},
		{"wrong issuer", mint(t, rsaKey, claims("emr", "system/*.write", func(c jwt.MapClaims) { c["iss"] = "https://evil.test" }))},
		{"no issuer", mint(t, rsaKey, claims("emr", "system/*.write", func(c jwt.MapClaims) { delete(c, "iss") }))},
		{"wrong audience", mint(t, ecKey, claims("emr", "system/*.write", func(c jwt.MapClaims) { c["aud"] = "someone-else" }))},
		{"unknown kid", mint(t, newRSAKey(t, "rsa-unknown"), claims("emr", "system/*.write"))},
		{"bad signature", mint(t, other, claims("emr", "system/*.write"))},
		{"tampered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+testIssuer+`","aud":"`+testAudience+`","sub":"emr","scope":"codebridge/role.admin","exp":4102444800}`)) + "." + parts[2]},
		{"alg none", noneTok},
		{"HS256 keyed with the RSA public key", hsTok},
		{"ES256 header on an RSA kid", mint(t, signingKey{"rsa-1", "ES256", ecKey.key}, claims("emr", "system/*.write"))},
		{"no subject", mint(t, rsaKey, claims("", "system/*.write"))},
		{"not a JWT, not a static token", "abc.def.ghi"},
	}
	for _, tt := range tests {
		code, _, rec := whoami(t, s, tt.token)
		if code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401: %s", tt.name, code, rec.Body)
		}
		if strings.Contains(rec.Body.String(), tt.token) || !strings.Contains(rec.Header().Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: answer echoes the token or lacks WWW-Authenticate: %s", tt.name, rec.Body)
		}
		if strings.Contains(logs.String(), tt.token) || strings.Contains(logs.String(), parts[2]) {
			t.Errorf("%s: a token reached the log", tt.name)
		}
	}
	for _, reason := range []string{`"reason":"expired"`, `"reason":"issuer"`, `"reason":"audience"`, `"reason":"unknown_kid"`, `"reason":"signature"`} {
		if !strings.Contains(logs.String(), reason) {
			t.Errorf("debug log lacks %s", reason)
		}
	}
}

func TestJWTWithoutMappingScopeIs403(t *testing.T) {
	k := newECKey(t, "ec-1")
	s, _ := jwtServer(t, newJWKSServer(t, k))
	for _, scope := range []string{"", "openid profile", "patient/*.read", "user/*.read?category=x", "system/Encounter.write?status=planned", "codebridge/role.superuser", "system/Claim.write"} {
		if code, _, rec := whoami(t, s, mint(t, k, claims("svc", scope))); code != http.StatusForbidden {
			t.Errorf("scope %q: status %d, want 403: %s", scope, code, rec.Body)
		}
	}
}

func TestJWTKeyRotationIsPickedUp(t *testing.T) {
	old, next := newRSAKey(t, "2025-key"), newECKey(t, "2026-key")
	jwks := newJWKSServer(t, old)
	// No limit on unknown-kid refreshes here, so the test never waits for one.
	s, _ := jwtServer(t, jwks, func(o *JWTOptions) { o.RefreshUnknownKID = time.Nanosecond })
	if code, _, _ := whoami(t, s, mint(t, old, claims("emr", "system/*.write"))); code != 200 {
		t.Fatalf("old key before rotation: %d", code)
	}
	if code, _, _ := whoami(t, s, mint(t, next, claims("emr", "system/*.write"))); code != 401 {
		t.Fatalf("unpublished key: %d, want 401", code)
	}
	jwks.publish(t, next) // the issuer rotates: the old key is withdrawn
	if code, who, _ := whoami(t, s, mint(t, next, claims("emr", "system/*.write"))); code != 200 || who != "emr:ehr" {
		t.Fatalf("new key after rotation: %d %s", code, who)
	}
	if code, _, _ := whoami(t, s, mint(t, old, claims("emr", "system/*.write"))); code != 401 {
		t.Fatalf("withdrawn key: %d, want 401", code)
	}
}

func TestStaticTokensBesideJWTs(t *testing.T) {
	k := newRSAKey(t, "rsa-1")
	s, _ := jwtServer(t, newJWKSServer(t, k))
	tests := []struct {
		token    string
		wantCode int
		want     string
	}{
		{"tok-coder-123", 200, "alice:coder"},
		{"tok-admin-123", 200, "root:admin"},
		{mint(t, k, claims("emr", "system/*.write")), 200, "emr:ehr"},
		{"tok-unknown-1", 401, ""},
	}
	for _, tt := range tests {
		code, got, _ := whoami(t, s, tt.token)
		if code != tt.wantCode || got != tt.want {
			t.Errorf("token %.12s...: %d %q, want %d %q", tt.token, code, got, tt.wantCode, tt.want)
		}
	}
}

func TestJWTTurnsOffInsecureMode(t *testing.T) {
	jwks := newJWKSServer(t, newRSAKey(t, "k"))
	a := NewAuthenticator(nil, true).UseJWT(newTestVerifier(t, jwks.URL, slog.New(slog.DiscardHandler)))
	if p, err := a.Authenticate(""); err == nil {
		t.Fatalf("insecure mode survived JWT configuration: %+v", p)
	}
}

func TestRoleFromScopes(t *testing.T) {
	tests := []struct {
		scopes []string
		want   workitem.Role
	}{
		{[]string{"system/Encounter.write"}, workitem.RoleEHR},
		{[]string{"system/DocumentReference.*"}, workitem.RoleEHR},
		{[]string{"system/*.*"}, workitem.RoleEHR},
		{[]string{"system/Encounter.c"}, workitem.RoleEHR},
		{[]string{"system/*.cruds"}, workitem.RoleEHR},
		{[]string{"system/Observation.write"}, ""}, // not a type codebridge takes
		{[]string{"system/Encounter.read"}, ""},
		{[]string{"system/Encounter.rc"}, ""}, // v2 letters out of order: not a scope
		{[]string{"system/Claim.read"}, workitem.RoleBiller},
		{[]string{"system/*.read"}, workitem.RoleBiller},
		{[]string{"user/Claim.s"}, workitem.RoleBiller},
		{[]string{"user/*.*"}, workitem.RoleCoder},
		{[]string{"user/*.write"}, workitem.RoleCoder},
		{[]string{"user/Encounter.write"}, ""},
		{[]string{"patient/*.*"}, ""},
		{[]string{"user/*.*", "system/*.write"}, workitem.RoleEHR},
		{[]string{"user/*.*", "system/Claim.read"}, workitem.RoleBiller},
		{[]string{"system/*.read", "system/*.write"}, workitem.RoleEHR}, // SMART v1 EHR client grant
		{[]string{"system/Claim.read", "system/Encounter.write"}, workitem.RoleEHR},
		{[]string{"codebridge/role.admin", "codebridge/role.ehr"}, workitem.RoleAdmin},
		{[]string{"codebridge/role.ehr", "user/*.*"}, workitem.RoleEHR},
		{[]string{"codebridge/role.root"}, ""},
		{[]string{"system/*.write?_tag=x"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		got, ok := RoleFromScopes(tt.scopes)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("RoleFromScopes(%q) = %q, %v; want %q", tt.scopes, got, ok, tt.want)
		}
	}
}

func TestLooksLikeJWT(t *testing.T) {
	tests := map[string]bool{
		"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln": true,
		"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.":      true,
		"tok-coder-123":                             false,
		"a.b":                                       false,
		"a.b.c.d":                                   false,
		".b.c":                                      false,
		"a+b.c/d.e=":                                false,
	}
	for tok, want := range tests {
		if got := looksLikeJWT(tok); got != want {
			t.Errorf("looksLikeJWT(%q) = %v, want %v", tok, got, want)
		}
	}
}

// BenchmarkJWTVerify measures a JWT's verification with a cached JWKS.
func BenchmarkJWTVerify(b *testing.B) {
	for _, k := range []signingKey{newRSAKey(b, "rsa-1"), newECKey(b, "ec-1")} {
		b.Run(k.alg, func(b *testing.B) {
			v := newTestVerifier(b, newJWKSServer(b, k).URL, slog.New(slog.DiscardHandler))
			tok := mint(b, k, claims("emr", "system/*.write"))
			for b.Loop() {
				if _, err := v.Verify(context.Background(), tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
