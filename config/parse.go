package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codebridge/codebridge/mapping/edits"
	"github.com/codebridge/codebridge/mapping/v2fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

func setAddr(dst *string, v string) error {
	if err := validAddr(v); err != nil {
		return err
	}
	*dst = v
	return nil
}

func setOptionalAddr(dst *string, v string) error {
	if v == "" {
		*dst = ""
		return nil
	}
	return setAddr(dst, v)
}

func setBrokers(dst *[]string, v string) error {
	var out []string
	for _, b := range strings.Split(v, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		if err := validAddr(b); err != nil {
			return fmt.Errorf("broker %w", err)
		}
		out = append(out, b)
	}
	*dst = out
	return nil
}

// topicRE is Kafka's legal topic name: 1-249 of [a-zA-Z0-9._-].
var topicRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

func setTopic(dst *string, v string) error {
	if !topicRE.MatchString(v) || v == "." || v == ".." {
		return fmt.Errorf("%q is not a legal Kafka topic name", v)
	}
	*dst = v
	return nil
}

func setOptionalTopic(dst *string, v string) error {
	if v == "" {
		*dst = ""
		return nil
	}
	return setTopic(dst, v)
}

// setTokens parses `name:role:token,...`. Names and token values must be
// unique; roles must be known.
func setTokens(dst *[]Token, v string) error {
	var out []Token
	names, values := map[string]bool{}, map[string]bool{}
	for i, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		parts := strings.SplitN(entry, ":", 3)
		if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
			return fmt.Errorf("entry %d is not name:role:token", i+1)
		}
		role, err := workitem.ParseRole(parts[1])
		if err != nil {
			return fmt.Errorf("entry %d (%s): %w", i+1, parts[0], err)
		}
		t := Token{Name: parts[0], Role: role, Value: parts[2]}
		if len(t.Value) < 8 {
			return fmt.Errorf("entry %d (%s): token shorter than 8 characters", i+1, t.Name)
		}
		if names[t.Name] {
			return fmt.Errorf("entry %d: principal %q appears twice", i+1, t.Name)
		}
		if values[t.Value] {
			return fmt.Errorf("entry %d (%s): token value reused", i+1, t.Name)
		}
		names[t.Name], values[t.Value] = true, true
		out = append(out, t)
	}
	*dst = out
	return nil
}

func setURL(dst *string, v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", RedactURL(v))
	}
	*dst = strings.TrimRight(v, "/")
	return nil
}

// setIssuer takes an OpenID Connect issuer: an https URL (http only on a
// loopback host, for tests) without query or fragment, kept exactly as
// given since the ID token's "iss" must equal it.
func setIssuer(dst *string, v string) error {
	u, err := url.Parse(v)
	loopback := err == nil && (u.Hostname() == "localhost" || net.ParseIP(u.Hostname()).IsLoopback())
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback)) {
		return fmt.Errorf("%q is not an https URL without query or fragment", RedactURL(v))
	}
	*dst = v
	return nil
}

func setOnOff(dst *bool, v string) error {
	switch strings.ToLower(v) {
	case "on", "true", "1", "yes":
		*dst = true
	case "off", "false", "0", "no":
		*dst = false
	default:
		return fmt.Errorf("%q is not on or off", v)
	}
	return nil
}

func setRate(dst *float64, v string) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		return fmt.Errorf("%q is not a number between 0 and 1", v)
	}
	*dst = f
	return nil
}

func setPositiveInt(dst *int, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return fmt.Errorf("%q is not a positive whole number", v)
	}
	*dst = n
	return nil
}

func setPositiveInt64(dst *int64, v string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return fmt.Errorf("%q is not a positive whole number", v)
	}
	*dst = n
	return nil
}

func setDuration(dst *time.Duration, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a positive duration such as 30s or 15m", v)
	}
	*dst = d
	return nil
}

func setLogLevel(dst *string, v string) error {
	switch strings.ToLower(v) {
	case "debug", "info", "warn", "error":
		*dst = strings.ToLower(v)
		return nil
	}
	return fmt.Errorf("%q is not one of debug, info, warn, error", v)
}

// RedactURL hides the password of a URL (in its userinfo or in password /
// sslpassword query parameters) or of a lib/pq key=value string, so it can
// be logged. A string that is neither is not echoed at all.
func RedactURL(s string) string {
	if s == "" {
		return ""
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "REDACTED(unparseable URL)"
		}
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
		}
		q := u.Query()
		for _, k := range []string{"password", "sslpassword"} {
			if q.Has(k) {
				q.Set(k, "REDACTED")
			}
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	return kvPasswordRE.ReplaceAllString(s, "${1}=REDACTED")
}

var kvPasswordRE = regexp.MustCompile(`(password|sslpassword)=('[^']*'|\S+)`)

// setDatabaseURL accepts a postgres:// URL or a lib/pq key=value string.
func setDatabaseURL(dst *string, v string) error {
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return fmt.Errorf("%s is not a postgres:// URL", RedactURL(v))
		}
	} else if !strings.Contains(v, "=") {
		return fmt.Errorf("not a postgres:// URL or key=value connection string")
	}
	*dst = v
	return nil
}

func setMechanism(dst *string, v string) error {
	switch strings.ToLower(v) {
	case "plain":
		*dst = "plain"
		return nil
	}
	return fmt.Errorf("%q is not a supported SASL mechanism (plain)", v)
}

func setFile(dst *string, v string) error {
	if _, err := os.Stat(v); err != nil {
		return fmt.Errorf("%q: %v", v, err)
	}
	*dst = v
	return nil
}

func setPOS(dst *string, v string) error {
	if v != "10" && v != "02" {
		return fmt.Errorf("%q: telehealth place of service is 10 (patient's home) or 02 (other than home)", v)
	}
	*dst = v
	return nil
}

// setTimezone reads an IANA time zone name such as America/Chicago. UTC
// is accepted; "Local" is not (it would depend on the host).
func setTimezone(dst **time.Location, v string) error {
	v = strings.TrimSpace(v)
	if v == "" || v == "Local" {
		return fmt.Errorf("%q: want an IANA time zone name such as America/Chicago", v)
	}
	loc, err := time.LoadLocation(v)
	if err != nil {
		return fmt.Errorf("%q is not an IANA time zone name such as America/Chicago: %w", v, err)
	}
	*dst = loc
	return nil
}

// classRE is a v3 ActCode encounter class code (AMB, IMP, EMER, VR...).
var classRE = regexp.MustCompile(`^[A-Z]{2,8}$`)

func setClasses(dst *[]string, v string) error {
	var out []string
	for _, c := range strings.Split(v, ",") {
		c = strings.TrimSpace(c)
		if !classRE.MatchString(c) {
			return fmt.Errorf("%q is not an encounter class code such as IMP or EMER", c)
		}
		out = append(out, c)
	}
	*dst = out
	return nil
}

func setOrgRef(dst *string, v string) error {
	id, ok := strings.CutPrefix(v, "Organization/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return fmt.Errorf("%q is not Organization/{id}", v)
	}
	*dst = v
	return nil
}

// payerRE is a FHIR id (R4: [A-Za-z0-9-.]{1,64}), optionally behind its
// resource type ("Organization/medicare-b").
var payerRE = regexp.MustCompile(`^([A-Z][A-Za-z]+/)?[A-Za-z0-9\-.]{1,64}$`)

// setPayers parses a comma list of payer references or ids.
func setPayers(dst *[]string, v string) error {
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !payerRE.MatchString(p) {
			return fmt.Errorf("%q is not a payer reference (Organization/{id}) or FHIR id", p)
		}
		out = append(out, p)
	}
	*dst = out
	return nil
}

// HL7 v2 coding-system names seen in DG1-3.3, PR1-3.3 and FT1-25.3, as FHIR
// system URIs. HL7 table 0396 names ICD-10-CM "I10" (and "I10C"), CPT "C4",
// HCPCS "HCPCS"/"HCPT"; interface engines also send the spelled-out forms.
const (
	systemICD10CM  = "http://hl7.org/fhir/sid/icd-10-cm"
	systemICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
	systemCPT      = "http://www.ama-assn.org/go/cpt"
	systemHCPCS    = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
	systemSNOMED   = "http://snomed.info/sct"
)

// aliasTargets names the systems an alias may point at.
var aliasTargets = map[string]string{
	"icd10cm": systemICD10CM, "icd10pcs": systemICD10PCS, "cpt": systemCPT, "hcpcs": systemHCPCS, "snomed": systemSNOMED,
}

// DefaultHL7CodeAliases is the built-in alias table (keys upper-case):
// v2fhir.DefaultAliases, which the HL7 v2 mapping owns.
func DefaultHL7CodeAliases() map[string]string {
	return v2fhir.DefaultAliases()
}

// setCodeAliases parses `ALIAS=system,...` (system one of icd10cm, icd10pcs,
// cpt, hcpcs, snomed) and adds the entries to the built-in table, so a site
// only lists its own spellings.
func setCodeAliases(dst *map[string]string, v string) error {
	out := DefaultHL7CodeAliases()
	for _, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		alias, target, ok := strings.Cut(entry, "=")
		alias, target = strings.ToUpper(strings.TrimSpace(alias)), strings.ToLower(strings.TrimSpace(target))
		uri, known := aliasTargets[target]
		if !ok || alias == "" || !known {
			return fmt.Errorf("%q is not ALIAS=icd10cm|icd10pcs|cpt|hcpcs|snomed", entry)
		}
		out[alias] = uri
	}
	*dst = out
	return nil
}

// processingIDs is HL7 table 0103 (processing ID, MSH-11.1).
var processingIDs = map[string]bool{"P": true, "T": true, "D": true}

// setProcessingIDs parses a comma list of MSH-11 processing ids (P
// production, T training, D debugging; any case) that the listener
// accepts. Messages with another id are refused with AR 202, so a test
// feed pointed at a production listener by mistake stores nothing.
func setProcessingIDs(dst *[]string, v string) error {
	var out []string
	seen := map[string]bool{}
	for _, id := range strings.Split(v, ",") {
		id = strings.ToUpper(strings.TrimSpace(id))
		if !processingIDs[id] {
			return fmt.Errorf("%q is not an HL7 processing id (P, T or D)", id)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	*dst = out
	return nil
}

// groupRE is a sensible Kafka consumer group id.
var groupRE = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

func setGroup(dst *string, v string) error {
	if !groupRE.MatchString(v) {
		return fmt.Errorf("%q is not a consumer group id (letters, digits, . _ -)", v)
	}
	*dst = v
	return nil
}

// editCodeRE is a claim-edit code: upper-case letters, digits and
// underscores, starting with a letter (e.g. SEX_CONFLICT), optionally
// qualified with the code set a coverage note names (NO_RELEASE_FOR_DOS:ptp).
var editCodeRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,63}(:[a-z0-9][a-z0-9-]{1,23})?$`)

// setEditCodes reads a comma-separated list of edit codes (empty: none),
// the code upper-cased and its qualifier lower-cased, without repeats.
// Each must be a chart-warning code of the edit engine
// (edits.WarningCodes) or an allowable coverage note
// (edits.AllowableCoverageNotes: NO_RELEASE_FOR_DOS:ptp, :mue or
// :icd10cm-tabular): a code
// the straight-through policy would never match is a typo, refused at
// start-up.
func setEditCodes(dst *[]string, v string) error {
	var out []string
	if strings.TrimSpace(v) == "" {
		*dst = nil
		return nil
	}
	for _, code := range strings.Split(v, ",") {
		code = strings.TrimSpace(code)
		name, qual, qualified := strings.Cut(code, ":")
		code = strings.ToUpper(name)
		if qualified {
			code += ":" + strings.ToLower(qual)
		}
		if !editCodeRE.MatchString(code) {
			return fmt.Errorf("%q is not an edit code (letters, digits and _, e.g. SEX_CONFLICT, or NO_RELEASE_FOR_DOS:ptp)", code)
		}
		if slices.Contains(edits.PersonWarningCodes(), code) {
			return fmt.Errorf("%q is a warning only a person may clear (a classification rule the codes cannot decide) and cannot be allowed", code)
		}
		if !slices.Contains(edits.WarningCodes(), code) && !slices.Contains(edits.AllowableCoverageNotes(), code) {
			return fmt.Errorf("%q is not a warning edit code that can be allowed (CONTRACT §1: unknown values are a start-up error); "+
				"known: %s, or %s", code, strings.Join(edits.WarningCodes(), ", "), strings.Join(edits.AllowableCoverageNotes(), ", "))
		}
		if !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	*dst = out
	return nil
}
