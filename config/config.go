// Package config holds codebridge's whole configuration in one struct.
//
// It follows pkgsite's internal/config: the configuration is read once, from a
// getenv function that is passed in (so tests never touch the process
// environment), optionally layered over a YAML file, validated, and printed
// redacted at start-up. No other package reads the environment.
//
// Every malformed or unknown value is an error naming the variable; nothing
// falls back to a default silently.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	// The IANA time zone database, so CODEBRIDGE_FACILITY_TIMEZONE resolves
	// on images without /usr/share/zoneinfo.
	_ "time/tzdata"

	"gopkg.in/yaml.v3"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// Token is one static bearer token: principal Name acting with Role, one
// of the roles of workitem.Roles.
type Token struct {
	Name  string
	Role  workitem.Role
	Value string
}

// Config is everything codebridge can be configured with.
type Config struct {
	HTTPAddr           string
	DatabaseURL        string
	KafkaBrokers       []string
	EmbeddedKafkaAddr  string
	StatusTopic        string
	ClaimsTopic        string
	Tokens             []Token
	ClaimSinkURL       string
	AutoCode           bool
	QASampleRate       float64
	MLLPAddr           string
	InboundTopic       string
	MaxLeasesPerCoder  int
	SelfPay            bool
	BodyLimitBytes     int64
	MaxBundleEntries   int
	LeaseDuration      time.Duration
	ShutdownTimeout    time.Duration
	DBMaxOpenConns     int
	DBStatementCache   bool          // per-connection prepared statements (off behind poolers that drop them)
	HTTPMaxInFlight    int           // requests running handlers at once; 0 = DBMaxOpenConns/2 (at least 4)
	HTTPQueueTimeout   time.Duration // longest wait for a slot before 503
	TopicPartitions    int
	TopicReplication   int
	LogLevel           string
	InsecureNoAuth     bool
	KafkaSASLMechanism string // "" or "plain"
	KafkaSASLUser      string
	KafkaSASLPassword  string
	KafkaTLS           bool
	KafkaTLSCAFile     string
	KafkaMaxMessage    int
	ClaimSinkToken     string // bearer token for the claim sink
	ClaimSinkUser      string // basic auth user for the claim sink
	ClaimSinkPassword  string
	ClaimSinkAttempts  int               // deliveries tried before a Claim is dead-lettered
	TelehealthPOS      string            // place of service of telehealth (VR) lines: 10 or 02
	InstitutionalClass []string          // encounter classes billed on institutional claims
	BillingProvider    string            // Organization/{id} billing when an Encounter names no serviceProvider
	FacilityTimezone   *time.Location    // dates times sent in UTC (Z) to their date of service; nil = UTC
	MedicarePayers     []string          // Coverage.payor references or ids that are Medicare (MUE 0 is then an error)
	MLLPTLSCert        string            // PEM certificate file: MLLP over TLS when set (with MLLPTLSKey)
	MLLPTLSKey         string            // PEM private key file
	MLLPMaxFrameBytes  int               // largest MLLP frame accepted; larger ones are refused with an AR ACK
	MLLPReadTimeout    time.Duration     // a frame must arrive whole within this once started
	MLLPIdleTimeout    time.Duration     // an idle MLLP connection is closed after this
	HL7CodeAliases     map[string]string // HL7 v2 coding-system names (DG1-3.3, PR1-3.3, FT1-25.3) → FHIR system URI
	HL7ProcessingIDs   []string          // HL7 v2 MSH-11 processing ids accepted (table 0103: P, T, D); others get AR 202
	InboundGroup       string            // Kafka consumer group of the inbound topic
	InboundDLQTopic    string            // dead-letter topic of the inbound topic (default: INBOUND_TOPIC + ".dlq")
	JWKSURL            string            // JWKS URL: JWT bearer tokens are accepted when set
	JWTIssuer          string            // required "iss" of JWTs
	JWTAudience        string            // required "aud" of JWTs
	UIIdleTimeout      time.Duration     // workbench session idle log-off
	UISecureCookie     bool              // mark the workbench session cookie Secure (behind TLS)
	AutoCodeWorkers    int               // straight-through coding workers per process
	UISessionMax       time.Duration     // workbench session absolute lifetime, however active
	OIDCIssuer         string            // OpenID Connect provider: "Sign in with your organisation" when set
	OIDCClientID       string            // this server's client id at the provider (the ID token's aud)
	OIDCClientSecret   string            // its client secret ("" for a public client with PKCE alone)
	OIDCRedirectURL    string            // this server's https://host/ui/oidc/callback, as registered

	// AutoCodeAllowWarnings are the chart-warning edit codes that do not
	// stop straight-through coding (CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS,
	// default none).
	AutoCodeAllowWarnings []string
}

// Default returns the configuration with every documented default.
func Default() Config {
	return Config{
		HTTPAddr:           "127.0.0.1:8080",
		EmbeddedKafkaAddr:  "127.0.0.1:9092",
		StatusTopic:        "codebridge.workitem.status",
		ClaimsTopic:        "codebridge.claims",
		AutoCode:           true,
		QASampleRate:       0.05,
		MaxLeasesPerCoder:  3,
		SelfPay:            true,
		BodyLimitBytes:     10 << 20,
		MaxBundleEntries:   1000,
		LeaseDuration:      30 * time.Minute,
		ShutdownTimeout:    20 * time.Second,
		DBMaxOpenConns:     20,
		HTTPQueueTimeout:   10 * time.Second,
		DBStatementCache:   true,
		TopicPartitions:    6,
		TopicReplication:   1,
		LogLevel:           "info",
		KafkaMaxMessage:    1_000_000,
		ClaimSinkAttempts:  8,
		TelehealthPOS:      "10",
		InstitutionalClass: slices.Clone(workitem.DefaultInstitutionalClasses),
		MLLPMaxFrameBytes:  1 << 20,
		MLLPReadTimeout:    30 * time.Second,
		MLLPIdleTimeout:    10 * time.Minute,
		HL7CodeAliases:     DefaultHL7CodeAliases(),
		HL7ProcessingIDs:   []string{"P"},
		InboundGroup:       "codebridge-inbound",
		UIIdleTimeout:      15 * time.Minute,
		AutoCodeWorkers:    2,
		UISessionMax:       12 * time.Hour,
	}
}

// field describes one configuration variable: its name and how to set it.
type field struct {
	name string
	set  func(c *Config, v string) error
}

// fields is the table of every variable, in documentation order.
var fields = []field{
	{"CODEBRIDGE_HTTP_ADDR", func(c *Config, v string) error { return setAddr(&c.HTTPAddr, v) }},
	{"CODEBRIDGE_DATABASE_URL", func(c *Config, v string) error { return setDatabaseURL(&c.DatabaseURL, v) }},
	{"CODEBRIDGE_KAFKA_BROKERS", func(c *Config, v string) error { return setBrokers(&c.KafkaBrokers, v) }},
	{"CODEBRIDGE_EMBEDDED_KAFKA_ADDR", func(c *Config, v string) error { return setAddr(&c.EmbeddedKafkaAddr, v) }},
	{"CODEBRIDGE_STATUS_TOPIC", func(c *Config, v string) error { return setTopic(&c.StatusTopic, v) }},
	{"CODEBRIDGE_CLAIMS_TOPIC", func(c *Config, v string) error { return setTopic(&c.ClaimsTopic, v) }},
	{"CODEBRIDGE_API_TOKENS", func(c *Config, v string) error { return setTokens(&c.Tokens, v) }},
	{"CODEBRIDGE_CLAIM_SINK_URL", func(c *Config, v string) error { return setURL(&c.ClaimSinkURL, v) }},
	{"CODEBRIDGE_AUTOCODE", func(c *Config, v string) error { return setOnOff(&c.AutoCode, v) }},
	{"CODEBRIDGE_QA_SAMPLE_RATE", func(c *Config, v string) error { return setRate(&c.QASampleRate, v) }},
	{"CODEBRIDGE_MLLP_ADDR", func(c *Config, v string) error { return setOptionalAddr(&c.MLLPAddr, v) }},
	{"CODEBRIDGE_INBOUND_TOPIC", func(c *Config, v string) error { return setOptionalTopic(&c.InboundTopic, v) }},
	{"CODEBRIDGE_MAX_LEASES_PER_CODER", func(c *Config, v string) error { return setPositiveInt(&c.MaxLeasesPerCoder, v) }},
	{"CODEBRIDGE_SELF_PAY", func(c *Config, v string) error { return setOnOff(&c.SelfPay, v) }},
	{"CODEBRIDGE_BODY_LIMIT_BYTES", func(c *Config, v string) error { return setPositiveInt64(&c.BodyLimitBytes, v) }},
	{"CODEBRIDGE_MAX_BUNDLE_ENTRIES", func(c *Config, v string) error { return setPositiveInt(&c.MaxBundleEntries, v) }},
	{"CODEBRIDGE_LEASE_DURATION", func(c *Config, v string) error { return setDuration(&c.LeaseDuration, v) }},
	{"CODEBRIDGE_SHUTDOWN_TIMEOUT", func(c *Config, v string) error { return setDuration(&c.ShutdownTimeout, v) }},
	{"CODEBRIDGE_DB_MAX_OPEN_CONNS", func(c *Config, v string) error { return setPositiveInt(&c.DBMaxOpenConns, v) }},
	{"CODEBRIDGE_DB_STATEMENT_CACHE", func(c *Config, v string) error { return setOnOff(&c.DBStatementCache, v) }},
	{"CODEBRIDGE_HTTP_MAX_INFLIGHT", func(c *Config, v string) error { return setPositiveInt(&c.HTTPMaxInFlight, v) }},
	{"CODEBRIDGE_HTTP_QUEUE_TIMEOUT", func(c *Config, v string) error { return setDuration(&c.HTTPQueueTimeout, v) }},
	{"CODEBRIDGE_TOPIC_PARTITIONS", func(c *Config, v string) error { return setPositiveInt(&c.TopicPartitions, v) }},
	{"CODEBRIDGE_TOPIC_REPLICATION", func(c *Config, v string) error { return setPositiveInt(&c.TopicReplication, v) }},
	{"CODEBRIDGE_LOG_LEVEL", func(c *Config, v string) error { return setLogLevel(&c.LogLevel, v) }},
	{"CODEBRIDGE_KAFKA_SASL_MECHANISM", func(c *Config, v string) error { return setMechanism(&c.KafkaSASLMechanism, v) }},
	{"CODEBRIDGE_KAFKA_SASL_USER", func(c *Config, v string) error { c.KafkaSASLUser = v; return nil }},
	{"CODEBRIDGE_KAFKA_SASL_PASSWORD", func(c *Config, v string) error { c.KafkaSASLPassword = v; return nil }},
	{"CODEBRIDGE_KAFKA_TLS", func(c *Config, v string) error { return setOnOff(&c.KafkaTLS, v) }},
	{"CODEBRIDGE_KAFKA_TLS_CA_FILE", func(c *Config, v string) error { return setFile(&c.KafkaTLSCAFile, v) }},
	{"CODEBRIDGE_KAFKA_MAX_MESSAGE_BYTES", func(c *Config, v string) error { return setPositiveInt(&c.KafkaMaxMessage, v) }},
	{"CODEBRIDGE_CLAIM_SINK_TOKEN", func(c *Config, v string) error { c.ClaimSinkToken = v; return nil }},
	{"CODEBRIDGE_CLAIM_SINK_USER", func(c *Config, v string) error { c.ClaimSinkUser = v; return nil }},
	{"CODEBRIDGE_CLAIM_SINK_PASSWORD", func(c *Config, v string) error { c.ClaimSinkPassword = v; return nil }},
	{"CODEBRIDGE_CLAIM_SINK_ATTEMPTS", func(c *Config, v string) error { return setPositiveInt(&c.ClaimSinkAttempts, v) }},
	{"CODEBRIDGE_TELEHEALTH_POS", func(c *Config, v string) error { return setPOS(&c.TelehealthPOS, v) }},
	{"CODEBRIDGE_INSTITUTIONAL_CLASSES", func(c *Config, v string) error { return setClasses(&c.InstitutionalClass, v) }},
	{"CODEBRIDGE_BILLING_PROVIDER", func(c *Config, v string) error { return setOrgRef(&c.BillingProvider, v) }},
	{"CODEBRIDGE_FACILITY_TIMEZONE", func(c *Config, v string) error { return setTimezone(&c.FacilityTimezone, v) }},
	{"CODEBRIDGE_MEDICARE_PAYERS", func(c *Config, v string) error { return setPayers(&c.MedicarePayers, v) }},
	{"CODEBRIDGE_MLLP_TLS_CERT", func(c *Config, v string) error { return setFile(&c.MLLPTLSCert, v) }},
	{"CODEBRIDGE_MLLP_TLS_KEY", func(c *Config, v string) error { return setFile(&c.MLLPTLSKey, v) }},
	{"CODEBRIDGE_MLLP_MAX_FRAME_BYTES", func(c *Config, v string) error { return setPositiveInt(&c.MLLPMaxFrameBytes, v) }},
	{"CODEBRIDGE_MLLP_READ_TIMEOUT", func(c *Config, v string) error { return setDuration(&c.MLLPReadTimeout, v) }},
	{"CODEBRIDGE_MLLP_IDLE_TIMEOUT", func(c *Config, v string) error { return setDuration(&c.MLLPIdleTimeout, v) }},
	{"CODEBRIDGE_HL7_CODE_ALIASES", func(c *Config, v string) error { return setCodeAliases(&c.HL7CodeAliases, v) }},
	{"CODEBRIDGE_HL7_PROCESSING_IDS", func(c *Config, v string) error { return setProcessingIDs(&c.HL7ProcessingIDs, v) }},
	{"CODEBRIDGE_INBOUND_GROUP", func(c *Config, v string) error { return setGroup(&c.InboundGroup, v) }},
	{"CODEBRIDGE_INBOUND_DLQ_TOPIC", func(c *Config, v string) error { return setOptionalTopic(&c.InboundDLQTopic, v) }},
	{"CODEBRIDGE_JWKS_URL", func(c *Config, v string) error { return setURL(&c.JWKSURL, v) }},
	{"CODEBRIDGE_JWT_ISSUER", func(c *Config, v string) error { c.JWTIssuer = v; return nil }},
	{"CODEBRIDGE_JWT_AUDIENCE", func(c *Config, v string) error { c.JWTAudience = v; return nil }},
	{"CODEBRIDGE_UI_IDLE_TIMEOUT", func(c *Config, v string) error { return setDuration(&c.UIIdleTimeout, v) }},
	{"CODEBRIDGE_AUTOCODE_WORKERS", func(c *Config, v string) error { return setPositiveInt(&c.AutoCodeWorkers, v) }},
	{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS", func(c *Config, v string) error { return setEditCodes(&c.AutoCodeAllowWarnings, v) }},
	{"CODEBRIDGE_UI_SECURE_COOKIE", func(c *Config, v string) error { return setOnOff(&c.UISecureCookie, v) }},
	{"CODEBRIDGE_UI_SESSION_MAX", func(c *Config, v string) error { return setDuration(&c.UISessionMax, v) }},
	{"CODEBRIDGE_OIDC_ISSUER", func(c *Config, v string) error { return setIssuer(&c.OIDCIssuer, v) }},
	{"CODEBRIDGE_OIDC_CLIENT_ID", func(c *Config, v string) error { c.OIDCClientID = v; return nil }},
	{"CODEBRIDGE_OIDC_CLIENT_SECRET", func(c *Config, v string) error { c.OIDCClientSecret = v; return nil }},
	{"CODEBRIDGE_OIDC_REDIRECT_URL", func(c *Config, v string) error { return setURL(&c.OIDCRedirectURL, v) }},
}

// Variables returns the names of every variable codebridge reads.
func Variables() []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return names
}

// Load builds the configuration: defaults, then the YAML file at path (if
// path is not empty), then the environment read through getenv. The
// environment wins over the file.
func Load(getenv func(string) string, path string) (Config, error) {
	c := Default()
	if path != "" {
		if err := c.applyFile(path); err != nil {
			return Config{}, err
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		return Config{}, err
	}
	return c, nil
}

// FromEnv is Load without a file.
func FromEnv(getenv func(string) string) (Config, error) { return Load(getenv, "") }

func (c *Config) applyEnv(getenv func(string) string) error {
	var errs []error
	for _, f := range fields {
		v, ok := lookup(getenv, f.name)
		if !ok {
			continue
		}
		if err := f.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
		}
	}
	return errors.Join(errs...)
}

// lookup reports a variable as set when getenv returns a non-empty value.
// An empty value means "not set" so that `VAR= codebridge serve` behaves
// like an unset variable, as shells and compose files commonly produce.
func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

func (c *Config) applyFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("--config %s: not valid YAML: %w", path, err)
	}
	known := map[string]field{}
	for _, f := range fields {
		known[f.name] = f
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		name := strings.ToUpper(k)
		if !strings.HasPrefix(name, "CODEBRIDGE_") {
			name = "CODEBRIDGE_" + name
		}
		f, ok := known[name]
		if !ok {
			errs = append(errs, fmt.Errorf("--config %s: unknown setting %q", path, k))
			continue
		}
		if err := f.set(c, fmt.Sprint(m[k])); err != nil {
			errs = append(errs, fmt.Errorf("%s (in %s): %w", f.name, path, err))
		}
	}
	return errors.Join(errs...)
}

// Validate checks the whole configuration for the serve command.
func (c Config) Validate() error {
	var errs []error
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("CODEBRIDGE_DATABASE_URL: required"))
	}
	if len(c.Tokens) == 0 && c.JWKSURL == "" && !c.InsecureNoAuth {
		errs = append(errs, errors.New("CODEBRIDGE_API_TOKENS: no authentication configured (set tokens, or pass --insecure-no-auth for a throwaway setup)"))
	}
	if c.KafkaSASLMechanism != "" && (c.KafkaSASLUser == "" || c.KafkaSASLPassword == "") {
		errs = append(errs, errors.New("CODEBRIDGE_KAFKA_SASL_USER: SASL needs a user and CODEBRIDGE_KAFKA_SASL_PASSWORD"))
	}
	if c.ClaimSinkToken != "" && c.ClaimSinkUser != "" {
		errs = append(errs, errors.New("CODEBRIDGE_CLAIM_SINK_TOKEN: give a bearer token or CODEBRIDGE_CLAIM_SINK_USER/PASSWORD, not both"))
	}
	if (c.MLLPTLSCert == "") != (c.MLLPTLSKey == "") {
		errs = append(errs, errors.New("CODEBRIDGE_MLLP_TLS_CERT: MLLP over TLS needs both CODEBRIDGE_MLLP_TLS_CERT and CODEBRIDGE_MLLP_TLS_KEY"))
	}
	if c.JWKSURL != "" && (c.JWTIssuer == "" || c.JWTAudience == "") {
		errs = append(errs, errors.New("CODEBRIDGE_JWKS_URL: JWT verification needs CODEBRIDGE_JWT_ISSUER and CODEBRIDGE_JWT_AUDIENCE"))
	}
	errs = append(errs, c.validateOIDC()...)
	if c.StatusTopic == c.ClaimsTopic {
		errs = append(errs, errors.New("CODEBRIDGE_CLAIMS_TOPIC: must differ from CODEBRIDGE_STATUS_TOPIC"))
	}
	return errors.Join(errs...)
}

// validateOIDC checks that OIDC sign-in is configured whole, or not at all.
func (c Config) validateOIDC() []error {
	if c.OIDCIssuer == "" {
		if c.OIDCClientID != "" || c.OIDCClientSecret != "" || c.OIDCRedirectURL != "" {
			return []error{errors.New("CODEBRIDGE_OIDC_ISSUER: required by CODEBRIDGE_OIDC_CLIENT_ID, _CLIENT_SECRET and _REDIRECT_URL")}
		}
		return nil
	}
	var errs []error
	if c.OIDCClientID == "" {
		errs = append(errs, errors.New("CODEBRIDGE_OIDC_CLIENT_ID: OIDC sign-in needs the client id registered at the provider"))
	}
	if !strings.HasSuffix(c.OIDCRedirectURL, "/ui/oidc/callback") {
		errs = append(errs, errors.New("CODEBRIDGE_OIDC_REDIRECT_URL: OIDC sign-in needs this server's URL ending in /ui/oidc/callback"))
	}
	return errs
}

// InboundDeadLetterTopic is where inbound messages that can never be
// processed go: CODEBRIDGE_INBOUND_DLQ_TOPIC, or the inbound topic + ".dlq".
func (c Config) InboundDeadLetterTopic() string {
	if c.InboundDLQTopic != "" {
		return c.InboundDLQTopic
	}
	if c.InboundTopic == "" {
		return ""
	}
	return c.InboundTopic + ".dlq"
}

// EmbeddedKafka reports whether codebridge should start its embedded broker.
func (c Config) EmbeddedKafka() bool { return len(c.KafkaBrokers) == 0 }

// Brokers returns the bootstrap brokers to dial: the configured ones or the
// embedded broker's address.
func (c Config) Brokers() []string {
	if c.EmbeddedKafka() {
		return []string{c.EmbeddedKafkaAddr}
	}
	return c.KafkaBrokers
}

// String prints the configuration with secrets redacted: database password,
// token values and any credentials in the claim sink URL.
func (c Config) String() string {
	var b strings.Builder
	names := make([]string, 0, len(c.Tokens))
	for _, t := range c.Tokens {
		names = append(names, t.Name+":"+string(t.Role)+":REDACTED")
	}
	fmt.Fprintf(&b, "http_addr=%s database_url=%s kafka_brokers=%s embedded_kafka_addr=%s ",
		c.HTTPAddr, RedactURL(c.DatabaseURL), strings.Join(c.KafkaBrokers, ","), c.EmbeddedKafkaAddr)
	fmt.Fprintf(&b, "status_topic=%s claims_topic=%s api_tokens=[%s] claim_sink_url=%s ",
		c.StatusTopic, c.ClaimsTopic, strings.Join(names, ","), RedactURL(c.ClaimSinkURL))
	fmt.Fprintf(&b, "kafka_sasl=%s kafka_sasl_user=%s kafka_tls=%s ", c.KafkaSASLMechanism, c.KafkaSASLUser, onOff(c.KafkaTLS))
	fmt.Fprintf(&b, "autocode=%s qa_sample_rate=%g mllp_addr=%s inbound_topic=%s max_leases_per_coder=%d self_pay=%s",
		onOff(c.AutoCode), c.QASampleRate, c.MLLPAddr, c.InboundTopic, c.MaxLeasesPerCoder, onOff(c.SelfPay))
	fmt.Fprintf(&b, " hl7_processing_ids=%s facility_timezone=%s autocode_allow_warnings=%s", strings.Join(c.HL7ProcessingIDs, ","), c.FacilityTimezone, strings.Join(c.AutoCodeAllowWarnings, ","))
	fmt.Fprintf(&b, " db_max_open_conns=%d db_statement_cache=%s http_max_inflight=%d http_queue_timeout=%s",
		c.DBMaxOpenConns, onOff(c.DBStatementCache), c.MaxInFlight(), c.HTTPQueueTimeout)
	fmt.Fprintf(&b, " jwks_url=%s jwt_issuer=%s jwt_audience=%s ui_idle_timeout=%s", RedactURL(c.JWKSURL), c.JWTIssuer, c.JWTAudience, c.UIIdleTimeout)
	fmt.Fprintf(&b, " ui_session_max=%s oidc_issuer=%s oidc_client_id=%s oidc_redirect_url=%s",
		c.UISessionMax, RedactURL(c.OIDCIssuer), c.OIDCClientID, RedactURL(c.OIDCRedirectURL))
	return b.String()
}

// MaxInFlight is the bound on requests running handlers at once:
// CODEBRIDGE_HTTP_MAX_INFLIGHT, else half the database pool (at least 4),
// which leaves the other half for the outbox relays, the auto-coder, the
// audit writer and the MLLP and Kafka listeners.
func (c Config) MaxInFlight() int {
	if c.HTTPMaxInFlight > 0 {
		return c.HTTPMaxInFlight
	}
	return max(4, c.DBMaxOpenConns/2)
}

// StatementCacheSize is postgres.Options.StatementCache for the
// configuration: 0 (the default size) when on, -1 (off) when off.
func (c Config) StatementCacheSize() int {
	if c.DBStatementCache {
		return 0 // the default size
	}
	return -1
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// validAddr checks a host:port listen address.
func validAddr(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("%q is not host:port", v)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has an invalid port", v)
	}
	return nil
}
