package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/codebridge/codebridge/mapping/workitem"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		modify  func(*Config)
		wantErr string
	}{
		{name: "defaults", env: nil, modify: func(*Config) {}},
		{
			name: "everything set",
			env: map[string]string{
				"CODEBRIDGE_HTTP_ADDR":            "0.0.0.0:9000",
				"CODEBRIDGE_DATABASE_URL":         "postgres://u:p@db/cb",
				"CODEBRIDGE_KAFKA_BROKERS":        "k1:9092, k2:9092",
				"CODEBRIDGE_STATUS_TOPIC":         "s.t",
				"CODEBRIDGE_CLAIMS_TOPIC":         "c.t",
				"CODEBRIDGE_API_TOKENS":           "alice:coder:t0k3n-abc,ehr1:ehr:secret-ehr-1",
				"CODEBRIDGE_CLAIM_SINK_URL":       "https://fhir.example.org/r4/",
				"CODEBRIDGE_AUTOCODE":             "off",
				"CODEBRIDGE_QA_SAMPLE_RATE":       "0.25",
				"CODEBRIDGE_MLLP_ADDR":            "127.0.0.1:2575",
				"CODEBRIDGE_INBOUND_TOPIC":        "in.fhir",
				"CODEBRIDGE_MAX_LEASES_PER_CODER": "5",
				"CODEBRIDGE_SELF_PAY":             "off",
				"CODEBRIDGE_LEASE_DURATION":       "10m",
				"CODEBRIDGE_HL7_PROCESSING_IDS":   "p, T",
			},
			modify: func(c *Config) {
				c.HTTPAddr = "0.0.0.0:9000"
				c.DatabaseURL = "postgres://u:p@db/cb"
				c.KafkaBrokers = []string{"k1:9092", "k2:9092"}
				c.StatusTopic, c.ClaimsTopic = "s.t", "c.t"
				c.Tokens = []Token{{"alice", workitem.RoleCoder, "t0k3n-abc"}, {"ehr1", workitem.RoleEHR, "secret-ehr-1"}}
				c.ClaimSinkURL = "https://fhir.example.org/r4"
				c.AutoCode = false
				c.QASampleRate = 0.25
				c.MLLPAddr = "127.0.0.1:2575"
				c.InboundTopic = "in.fhir"
				c.MaxLeasesPerCoder = 5
				c.SelfPay = false
				c.LeaseDuration = 10 * time.Minute
				c.HL7ProcessingIDs = []string{"P", "T"}
			},
		},
		{name: "bad addr", env: map[string]string{"CODEBRIDGE_HTTP_ADDR": "8080"}, wantErr: "CODEBRIDGE_HTTP_ADDR"},
		{name: "bad port", env: map[string]string{"CODEBRIDGE_HTTP_ADDR": "x:99999"}, wantErr: "CODEBRIDGE_HTTP_ADDR"},
		{name: "bad broker", env: map[string]string{"CODEBRIDGE_KAFKA_BROKERS": "nohostport"}, wantErr: "CODEBRIDGE_KAFKA_BROKERS"},
		{name: "bad topic", env: map[string]string{"CODEBRIDGE_STATUS_TOPIC": "has space"}, wantErr: "CODEBRIDGE_STATUS_TOPIC"},
		{name: "bad role", env: map[string]string{"CODEBRIDGE_API_TOKENS": "bob:janitor:aaaaaaaaaa"}, wantErr: "CODEBRIDGE_API_TOKENS"},
		{name: "token shape", env: map[string]string{"CODEBRIDGE_API_TOKENS": "bob-coder"}, wantErr: "CODEBRIDGE_API_TOKENS"},
		{name: "short token", env: map[string]string{"CODEBRIDGE_API_TOKENS": "bob:coder:abc"}, wantErr: "shorter than 8"},
		{name: "dup token", env: map[string]string{"CODEBRIDGE_API_TOKENS": "a:coder:aaaaaaaaaa,b:ehr:aaaaaaaaaa"}, wantErr: "reused"},
		{name: "bad url", env: map[string]string{"CODEBRIDGE_CLAIM_SINK_URL": "ftp://x"}, wantErr: "CODEBRIDGE_CLAIM_SINK_URL"},
		{name: "bad onoff", env: map[string]string{"CODEBRIDGE_AUTOCODE": "maybe"}, wantErr: "CODEBRIDGE_AUTOCODE"},
		{name: "rate too big", env: map[string]string{"CODEBRIDGE_QA_SAMPLE_RATE": "1.5"}, wantErr: "CODEBRIDGE_QA_SAMPLE_RATE"},
		{name: "rate nan", env: map[string]string{"CODEBRIDGE_QA_SAMPLE_RATE": "x"}, wantErr: "CODEBRIDGE_QA_SAMPLE_RATE"},
		{name: "leases zero", env: map[string]string{"CODEBRIDGE_MAX_LEASES_PER_CODER": "0"}, wantErr: "CODEBRIDGE_MAX_LEASES_PER_CODER"},
		{name: "bad self pay", env: map[string]string{"CODEBRIDGE_SELF_PAY": "2"}, wantErr: "CODEBRIDGE_SELF_PAY"},
		{name: "bad mllp", env: map[string]string{"CODEBRIDGE_MLLP_ADDR": "2575"}, wantErr: "CODEBRIDGE_MLLP_ADDR"},
		{name: "bad duration", env: map[string]string{"CODEBRIDGE_LEASE_DURATION": "forever"}, wantErr: "CODEBRIDGE_LEASE_DURATION"},
		{name: "bad processing id", env: map[string]string{"CODEBRIDGE_HL7_PROCESSING_IDS": "P,X"}, wantErr: "CODEBRIDGE_HL7_PROCESSING_IDS"},
		{name: "bad allowed warning", env: map[string]string{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS": "SEX CONFLICT"}, wantErr: "CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS"},
		{name: "empty allowed warning", env: map[string]string{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS": "SEX_CONFLICT,,AGE_CONFLICT"}, wantErr: "CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS"},
		{name: "unknown allowed warning (typo)", env: map[string]string{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS": "TELEHEALTH_MODIFER"}, wantErr: "CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS"},
		{name: "an error code is no allowed warning", env: map[string]string{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS": "DX_UNKNOWN"}, wantErr: "CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS"},
		{name: "the MCE manifestation error is no allowed warning", env: map[string]string{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS": "MCE_MANIFESTATION_AS_PRINCIPAL"}, wantErr: "CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS"},
		{name: "an MCE release cannot be allowed away", env: map[string]string{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS": "NO_RELEASE_FOR_DOS:mce"}, wantErr: "CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS"},
		{name: "code-set release cannot be allowed", env: map[string]string{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS": "NO_RELEASE_FOR_DOS:icd10cm"}, wantErr: "CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS"},
		{name: "a guideline warning only a person clears", env: map[string]string{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS": "GL_SEQUELA_NATURE_UNCLEAR"}, wantErr: "only a person"},
		{name: "an MCE warning only a person clears", env: map[string]string{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS": "MCE_AGE_CONFLICT"}, wantErr: "only a person"},
		{name: "an MCE unacceptable first-listed diagnosis only a person clears", env: map[string]string{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS": "mce_unacceptable_principal"}, wantErr: "only a person"},
		{name: "a Tabular etiology warning only a person clears", env: map[string]string{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS": "NO_RELEASE_FOR_DOS:icd10cm-tabular,tabular_etiology_unlisted"}, wantErr: "only a person"},
		{name: "a Tabular use-additional-code warning only a person clears", env: map[string]string{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS": "TABULAR_USE_ADDITIONAL_CODE"}, wantErr: "only a person"},
		{name: "a guideline error", env: map[string]string{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS": "GL_Z_FIRST_LISTED_ONLY"}, wantErr: "CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS"},
		{name: "unqualified coverage note", env: map[string]string{"CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS": "NO_RELEASE_FOR_DOS"}, wantErr: "CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS"},
		{name: "empty processing id", env: map[string]string{"CODEBRIDGE_HL7_PROCESSING_IDS": "P,,T"}, wantErr: "CODEBRIDGE_HL7_PROCESSING_IDS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnv(env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FromEnv() error = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromEnv() error = %v", err)
			}
			want := Default()
			tt.modify(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSeveralErrorsAllNamed(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"CODEBRIDGE_AUTOCODE": "x", "CODEBRIDGE_SELF_PAY": "y"}))
	if err == nil || !strings.Contains(err.Error(), "CODEBRIDGE_AUTOCODE") || !strings.Contains(err.Error(), "CODEBRIDGE_SELF_PAY") {
		t.Fatalf("error = %v, want both variables named", err)
	}
}

func TestFileAndEnvPrecedence(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(p, []byte("http_addr: 127.0.0.1:7000\nCODEBRIDGE_STATUS_TOPIC: from.file\nqa_sample_rate: 0.5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(env(map[string]string{"CODEBRIDGE_STATUS_TOPIC": "from.env"}), p)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != "127.0.0.1:7000" || c.StatusTopic != "from.env" || c.QASampleRate != 0.5 {
		t.Errorf("got addr=%s topic=%s rate=%g; want file addr, env topic, file rate", c.HTTPAddr, c.StatusTopic, c.QASampleRate)
	}
	if err := os.WriteFile(p, []byte("nonsense_key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(env(nil), p); err == nil || !strings.Contains(err.Error(), "nonsense_key") {
		t.Errorf("unknown key error = %v, want it named", err)
	}
	if err := os.WriteFile(p, []byte("autocode: sometimes\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(env(nil), p); err == nil || !strings.Contains(err.Error(), "CODEBRIDGE_AUTOCODE") {
		t.Errorf("bad value error = %v, want variable named", err)
	}
}

func TestValidate(t *testing.T) {
	c := Default()
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "CODEBRIDGE_DATABASE_URL") || !strings.Contains(err.Error(), "CODEBRIDGE_API_TOKENS") {
		t.Fatalf("Validate() = %v, want database and tokens named", err)
	}
	c.DatabaseURL = "postgres://x/y"
	c.InsecureNoAuth = true
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() with insecure no-auth = %v", err)
	}
}

func TestStringRedacts(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"CODEBRIDGE_DATABASE_URL":   "postgres://app:hunter2@db:5432/cb",
		"CODEBRIDGE_API_TOKENS":     "alice:coder:supersecret-token",
		"CODEBRIDGE_CLAIM_SINK_URL": "https://user:sinkpass@sink.example/fhir",
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := c.String()
	for _, secret := range []string{"hunter2", "supersecret-token", "sinkpass"} {
		if strings.Contains(s, secret) {
			t.Errorf("String() leaks %q: %s", secret, s)
		}
	}
	if !strings.Contains(s, "alice:coder") {
		t.Errorf("String() should still name principals: %s", s)
	}
	if got := RedactURL("host=db user=x password=secret dbname=y"); strings.Contains(got, "secret") {
		t.Errorf("RedactURL kv form leaks: %s", got)
	}
}

// TestComposeUsesKnownVariables keeps docker-compose.yml honest: there is no
// Docker engine on the development machines, so the file is checked here.
func TestComposeUsesKnownVariables(t *testing.T) {
	data, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XCodebridge struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"x-codebridge"`
		Services map[string]any `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("docker-compose.yml is not valid YAML: %v", err)
	}
	known := map[string]bool{}
	for _, v := range Variables() {
		known[v] = true
	}
	if len(doc.XCodebridge.Environment) == 0 {
		t.Fatal("no x-codebridge environment found")
	}
	for k, v := range doc.XCodebridge.Environment {
		if !known[k] {
			t.Errorf("docker-compose.yml sets unknown variable %s", k)
		}
		if strings.HasPrefix(v, "${") {
			continue
		}
		if _, err := FromEnv(env(map[string]string{k: v})); err != nil {
			t.Errorf("docker-compose.yml value of %s is rejected: %v", k, err)
		}
	}
	for _, svc := range []string{"postgres", "kafka", "codebridge-1", "codebridge-2"} {
		if _, ok := doc.Services[svc]; !ok {
			t.Errorf("service %s missing", svc)
		}
	}
}

func TestKafkaSecurityVariables(t *testing.T) {
	ok := map[string]string{
		"CODEBRIDGE_DATABASE_URL":         "postgres://x/y",
		"CODEBRIDGE_API_TOKENS":           "a:admin:aaaaaaaaaa",
		"CODEBRIDGE_KAFKA_SASL_MECHANISM": "PLAIN",
		"CODEBRIDGE_KAFKA_SASL_USER":      "svc",
		"CODEBRIDGE_KAFKA_SASL_PASSWORD":  "kafka-secret",
		"CODEBRIDGE_KAFKA_TLS":            "on",
	}
	c, err := FromEnv(env(ok))
	if err != nil || c.Validate() != nil || c.KafkaSASLMechanism != "plain" || !c.KafkaTLS {
		t.Fatalf("FromEnv = %+v, %v", c, err)
	}
	if strings.Contains(c.String(), "kafka-secret") {
		t.Error("String() leaks the SASL password")
	}
	for k, v := range map[string]string{
		"CODEBRIDGE_KAFKA_SASL_MECHANISM":    "gssapi",
		"CODEBRIDGE_KAFKA_TLS_CA_FILE":       "/nonexistent/ca.pem",
		"CODEBRIDGE_KAFKA_MAX_MESSAGE_BYTES": "-1",
	} {
		if _, err := FromEnv(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: error %v, want one naming it", k, v, err)
		}
	}
	noPass := map[string]string{"CODEBRIDGE_DATABASE_URL": "postgres://x/y", "CODEBRIDGE_API_TOKENS": "a:admin:aaaaaaaaaa", "CODEBRIDGE_KAFKA_SASL_MECHANISM": "plain"}
	c, _ = FromEnv(env(noPass))
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "CODEBRIDGE_KAFKA_SASL_USER") {
		t.Errorf("SASL without credentials: %v", err)
	}
}

func TestDatabaseURLNeverLeaksPassword(t *testing.T) {
	for _, u := range []string{
		"postgres://u@127.0.0.1:1/db?password=qsecret",
		"postgres://u:qsecret@127.0.0.1:1/db?sslmode=disable",
		"host=db user=u password=qsecret dbname=x",
		"postgres://u:qs ecret@h:1/db",
	} {
		if got := RedactURL(u); strings.Contains(got, "qsecret") || strings.Contains(got, "ecret") {
			t.Errorf("RedactURL(%q) = %q leaks the password", u, got)
		}
		c, err := FromEnv(env(map[string]string{"CODEBRIDGE_DATABASE_URL": u}))
		if err != nil && strings.Contains(err.Error(), "ecret") {
			t.Errorf("error for %q leaks the password: %v", u, err)
		}
		if err == nil && strings.Contains(c.String(), "ecret") {
			t.Errorf("String() for %q leaks the password: %s", u, c.String())
		}
	}
	if _, err := FromEnv(env(map[string]string{"CODEBRIDGE_DATABASE_URL": "postgres://u:pa ss@h:1/db"})); err == nil || !strings.Contains(err.Error(), "CODEBRIDGE_DATABASE_URL") {
		t.Errorf("malformed URL: %v, want an error naming the variable", err)
	}
	if _, err := FromEnv(env(map[string]string{"CODEBRIDGE_DATABASE_URL": "mysql://x/y"})); err == nil {
		t.Error("a mysql:// URL must be rejected")
	}
}

func TestClaimPolicyVariables(t *testing.T) {
	c, err := FromEnv(env(map[string]string{"CODEBRIDGE_TELEHEALTH_POS": "02", "CODEBRIDGE_INSTITUTIONAL_CLASSES": "IMP, OBSENC",
		"CODEBRIDGE_BILLING_PROVIDER": "Organization/org-1"}))
	if err != nil || c.TelehealthPOS != "02" || len(c.InstitutionalClass) != 2 || c.InstitutionalClass[1] != "OBSENC" || c.BillingProvider != "Organization/org-1" {
		t.Fatalf("FromEnv = %+v, %v", c, err)
	}
	for k, v := range map[string]string{"CODEBRIDGE_TELEHEALTH_POS": "11", "CODEBRIDGE_INSTITUTIONAL_CLASSES": "imp", "CODEBRIDGE_BILLING_PROVIDER": "Practitioner/1"} {
		if _, err := FromEnv(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v, want an error naming it", k, v, err)
		}
	}
}

func TestFacilityTimezone(t *testing.T) {
	if Default().FacilityTimezone != nil {
		t.Error("default facility time zone must be nil (UTC)")
	}
	c, err := FromEnv(env(map[string]string{"CODEBRIDGE_FACILITY_TIMEZONE": "America/Chicago"}))
	if err != nil || c.FacilityTimezone == nil || c.FacilityTimezone.String() != "America/Chicago" {
		t.Fatalf("FromEnv = %v, %v; want America/Chicago", c.FacilityTimezone, err)
	}
	if s := c.String(); !strings.Contains(s, "facility_timezone=America/Chicago") {
		t.Errorf("String() = %q, want the facility time zone", s)
	}
	for _, v := range []string{"Mars/Olympus", "Local", "-05:00"} {
		if _, err := FromEnv(env(map[string]string{"CODEBRIDGE_FACILITY_TIMEZONE": v})); err == nil || !strings.Contains(err.Error(), "CODEBRIDGE_FACILITY_TIMEZONE") {
			t.Errorf("CODEBRIDGE_FACILITY_TIMEZONE=%s: %v, want an error naming it", v, err)
		}
	}
}

func TestMedicarePayers(t *testing.T) {
	if got := Default().MedicarePayers; got != nil {
		t.Errorf("default = %v, want none (no payer is Medicare unless listed)", got)
	}
	c, err := FromEnv(env(map[string]string{"CODEBRIDGE_MEDICARE_PAYERS": "Organization/cms-medicare, medicare-b,,"}))
	if err != nil || !cmp.Equal(c.MedicarePayers, []string{"Organization/cms-medicare", "medicare-b"}) {
		t.Errorf("FromEnv = %v, %v", c.MedicarePayers, err)
	}
	for _, v := range []string{"Organization/", "medicare b", "Organization/a/b"} {
		if _, err := FromEnv(env(map[string]string{"CODEBRIDGE_MEDICARE_PAYERS": v})); err == nil || !strings.Contains(err.Error(), "CODEBRIDGE_MEDICARE_PAYERS") {
			t.Errorf("CODEBRIDGE_MEDICARE_PAYERS=%q: %v, want an error naming it", v, err)
		}
	}
}

func TestHL7ProcessingIDs(t *testing.T) {
	if got := Default().HL7ProcessingIDs; !cmp.Equal(got, []string{"P"}) {
		t.Errorf("default = %v, want [P] (production only)", got)
	}
	c, err := FromEnv(env(map[string]string{"CODEBRIDGE_HL7_PROCESSING_IDS": "t,P,T, d"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"T", "P", "D"}; !cmp.Equal(c.HL7ProcessingIDs, want) {
		t.Errorf("HL7ProcessingIDs = %v, want %v (upper-cased, each once)", c.HL7ProcessingIDs, want)
	}
	if s := c.String(); !strings.Contains(s, "hl7_processing_ids=T,P,D") {
		t.Errorf("String() does not show the processing ids: %s", s)
	}
	c, err = Load(env(nil), writeFile(t, "hl7_processing_ids: P,T\n"))
	if err != nil || !cmp.Equal(c.HL7ProcessingIDs, []string{"P", "T"}) {
		t.Errorf("from the file: %v, %v", c.HL7ProcessingIDs, err)
	}
}

// writeFile writes a YAML configuration file and returns its path.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAutoCodeAllowWarnings: the straight-through allowlist is empty by
// default and reads a comma-separated list of edit codes, upper-cased,
// without repeats.
func TestAutoCodeAllowWarnings(t *testing.T) {
	for _, tt := range []struct {
		env  string
		want []string
	}{
		{"", nil},
		{"telehealth_modifier, SEX_CONFLICT,TELEHEALTH_MODIFIER", []string{"TELEHEALTH_MODIFIER", "SEX_CONFLICT"}},
		{"no_release_for_dos:PTP", []string{"NO_RELEASE_FOR_DOS:ptp"}},
		{"NO_RELEASE_FOR_DOS:mue,MUE_ZERO,age_conflict", []string{"NO_RELEASE_FOR_DOS:mue", "MUE_ZERO", "AGE_CONFLICT"}},
		{"NO_RELEASE_FOR_DOS:ICD10CM-Tabular,mue_zero", []string{"NO_RELEASE_FOR_DOS:icd10cm-tabular", "MUE_ZERO"}},
	} {
		c, err := FromEnv(func(k string) string {
			if k == "CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS" {
				return tt.env
			}
			return ""
		})
		if err != nil {
			t.Fatalf("%q: %v", tt.env, err)
		}
		if !slices.Equal(c.AutoCodeAllowWarnings, tt.want) {
			t.Errorf("%q: allow %q, want %q", tt.env, c.AutoCodeAllowWarnings, tt.want)
		}
	}
	if Default().AutoCodeAllowWarnings != nil {
		t.Error("the default allows warnings")
	}
}
