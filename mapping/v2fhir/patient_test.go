package v2fhir_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/v2fhir"
)

// jsonValue decodes raw for a comparison that ignores key order and spacing.
func jsonValue(tb testing.TB, raw []byte) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("not JSON: %v\n%s", err, raw)
	}
	return v
}

func TestMergePatient(t *testing.T) {
	const full = `{"resourceType":"Patient","id":"p1","meta":{"versionId":"3","lastUpdated":"2025-03-14T13:30:00Z","profile":["http://example.org/p"]},
		"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Alex</div>"},
		"identifier":[{"system":"urn:mrn","value":"MRN1"}],"name":[{"family":"ZZTEST","given":["ALEX"]}],
		"telecom":[{"system":"phone","value":"+1 217 5550100","use":"home"}],"gender":"female",
		"birthDate":"1980-02-15","_birthDate":{"extension":[{"url":"http://example.org/x","valueString":"y"}]},
		"address":[{"use":"home","line":["100 TEST ST"],"city":"SPRINGFIELD"}],"maritalStatus":{"text":"S"}}`
	tests := []struct {
		name    string
		stored  string
		fresh   string
		sent    v2fhir.PIDSent
		want    string
		wantErr bool
	}{
		{
			name:   "thin PID keeps what it does not value",
			stored: full,
			fresh:  `{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"MRN1"}],"name":[{"family":"ZZTEST","given":["ALEX"]}]}`,
			want: `{"resourceType":"Patient","id":"p1","meta":{"profile":["http://example.org/p"]},
				"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Alex</div>"},
				"identifier":[{"system":"urn:mrn","value":"MRN1"}],"name":[{"family":"ZZTEST","given":["ALEX"]}],
				"telecom":[{"system":"phone","value":"+1 217 5550100","use":"home"}],"gender":"female",
				"birthDate":"1980-02-15","_birthDate":{"extension":[{"url":"http://example.org/x","valueString":"y"}]},
				"address":[{"use":"home","line":["100 TEST ST"],"city":"SPRINGFIELD"}],"maritalStatus":{"text":"S"}}`,
		},
		{
			name:   "valued elements replace, whole; the narrative goes",
			stored: full,
			fresh: `{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"MRN1"}],"name":[{"family":"ZZTEST","given":["ALEX"]}],
				"birthDate":"1980-02-16","address":[{"use":"home","line":["200 SAMPLE AVE"],"city":"SPRINGFIELD"}]}`,
			want: `{"resourceType":"Patient","id":"p1","meta":{"profile":["http://example.org/p"]},
				"identifier":[{"system":"urn:mrn","value":"MRN1"}],"name":[{"family":"ZZTEST","given":["ALEX"]}],
				"telecom":[{"system":"phone","value":"+1 217 5550100","use":"home"}],"gender":"female",
				"birthDate":"1980-02-16","address":[{"use":"home","line":["200 SAMPLE AVE"],"city":"SPRINGFIELD"}],"maritalStatus":{"text":"S"}}`,
		},
		{
			name:   "explicit nulls clear, with their extensions",
			stored: full,
			fresh:  `{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"MRN1"}],"name":[{"family":"ZZTEST","given":["ALEX"]}]}`,
			sent:   v2fhir.PIDSent{Nulled: []string{"birthDate", "address"}, PID13: true},
			want: `{"resourceType":"Patient","id":"p1","meta":{"profile":["http://example.org/p"]},
				"identifier":[{"system":"urn:mrn","value":"MRN1"}],"name":[{"family":"ZZTEST","given":["ALEX"]}],
				"gender":"female","maritalStatus":{"text":"S"}}`,
		},
		{
			name:   "a null for an element the stored Patient lacks changes nothing",
			stored: `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},"gender":"male"}`,
			fresh:  `{"resourceType":"Patient","id":"p1","gender":"male"}`,
			sent:   v2fhir.PIDSent{Nulled: []string{"address"}},
			want:   `{"resourceType":"Patient","id":"p1","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},"gender":"male"}`,
		},
		{
			name:   "no stored elements: the mapped Patient",
			stored: `{"resourceType":"Patient","id":"p1"}`,
			fresh:  `{"resourceType":"Patient","id":"p1","gender":"other","birthDate":"1980"}`,
			want:   `{"resourceType":"Patient","id":"p1","gender":"other","birthDate":"1980"}`,
		},
		{name: "stored null", stored: `null`, fresh: `{"resourceType":"Patient","id":"p1"}`, wantErr: true},
		{name: "stored array", stored: `[]`, fresh: `{"resourceType":"Patient","id":"p1"}`, wantErr: true},
		{name: "stored meta not an object", stored: `{"meta":3}`, fresh: `{"resourceType":"Patient","id":"p1"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMerge(t, tt.stored, tt.fresh, tt.sent, tt.want, tt.wantErr)
		})
	}
}

// checkMerge merges fresh into stored and compares the result with want
// (ignoring key order and spacing); it also checks that the output starts
// with resourceType and id, is the same bytes when merged again, and does
// not change when the same message is merged into it (a re-send).
func checkMerge(t *testing.T, stored, fresh string, sent v2fhir.PIDSent, want string, wantErr bool) {
	t.Helper()
	got, err := v2fhir.MergePatient([]byte(stored), []byte(fresh), sent)
	if wantErr {
		if err == nil {
			t.Fatalf("MergePatient = %s, want an error", got)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(jsonValue(t, []byte(want)), jsonValue(t, got)); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(string(got), `{"resourceType":"Patient","id":"p1"`) {
		t.Errorf("output does not start with resourceType and id: %s", got)
	}
	again, _ := v2fhir.MergePatient([]byte(stored), []byte(fresh), sent)
	if string(again) != string(got) {
		t.Error("merging twice gave different bytes")
	}
	resent, err := v2fhir.MergePatient(got, []byte(fresh), sent)
	if err != nil || string(resent) != string(got) {
		t.Errorf("merging the message into its own result changed it (%v):\n%s\nwas\n%s", err, resent, got)
	}
}

// TestMergePatientTelecom: PID-13 and PID-14 each replace only the
// stored entries of their origin (told by use: work is PID-14's; home,
// mobile and none PID-13's), "" clears only its own, and entries of other
// uses (temp, old: a FHIR push's) stay, in their place.
func TestMergePatientTelecom(t *testing.T) {
	const (
		home   = `{"system":"phone","value":"+1 217 5550100","use":"home"}`
		work   = `{"system":"phone","value":"+1 217 5550177","use":"work"}`
		mobile = `{"system":"phone","value":"217 5550111","use":"mobile"}`
		email  = `{"system":"email","value":"alex@example.org"}`
		temp   = `{"system":"phone","value":"+1 312 5550123","use":"temp"}`
		home2  = `{"system":"phone","value":"+1 217 5550200","use":"home"}`
		work2  = `{"system":"phone","value":"+1 217 5550288","use":"work"}`
	)
	patient := func(telecom ...string) string {
		p := `{"resourceType":"Patient","id":"p1","gender":"female"`
		if len(telecom) > 0 {
			p += `,"telecom":[` + strings.Join(telecom, ",") + `]`
		}
		return p + "}"
	}
	tests := []struct {
		name   string
		stored string
		fresh  string
		sent   v2fhir.PIDSent
		want   string
	}{
		{"PID-13 only keeps the business phone and the temp one", patient(home, work, mobile, email, temp), patient(home2),
			v2fhir.PIDSent{PID13: true}, patient(home2, work, temp)},
		{"PID-14 only keeps home, mobile, e-mail", patient(home, work, mobile, email, temp), patient(work2),
			v2fhir.PIDSent{PID14: true}, patient(home, work2, mobile, email, temp)},
		{"both replace both, other uses stay", patient(temp, home, work), patient(home2, work2),
			v2fhir.PIDSent{PID13: true, PID14: true}, patient(temp, home2, work2)},
		{`PID-13 "" clears only home, mobile and e-mail`, patient(home, work, mobile, email, temp), patient(),
			v2fhir.PIDSent{PID13: true}, patient(work, temp)},
		{`PID-14 "" clears only the business phone`, patient(home, work, temp), patient(),
			v2fhir.PIDSent{PID14: true}, patient(home, temp)},
		{`both "" clear the element when nothing else is left`, patient(home, work), patient(),
			v2fhir.PIDSent{PID13: true, PID14: true}, patient()},
		{"neither sent keeps all", patient(home, work, temp), patient(), v2fhir.PIDSent{}, patient(home, work, temp)},
		{"nothing stored: the mapped entries", patient(), patient(home, work), v2fhir.PIDSent{PID13: true, PID14: true}, patient(home, work)},
		{"new origin goes at the end", patient(temp, work), patient(home), v2fhir.PIDSent{PID13: true}, patient(temp, work, home)},
		{"a FHIR push's order is kept", patient(work, temp, home, mobile), patient(home2), v2fhir.PIDSent{PID13: true},
			patient(work, temp, home2)},
		// A WPN sent in PID-13 maps to use work: it is added beside the
		// stored business phone (PID-14 was not sent), not in its place.
		{"a work number in PID-13 is added, once", patient(home, work), patient(home2, work2), v2fhir.PIDSent{PID13: true},
			patient(home2, work, work2)},
		{"a work number in PID-13 equal to the stored one is not doubled", patient(home, work), patient(work), v2fhir.PIDSent{PID13: true},
			patient(work)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMerge(t, tt.stored, tt.fresh, tt.sent, tt.want, false)
		})
	}
}

// TestMergePatientIdentifiers: PID-3 identifiers replace the stored
// identifiers of their system (or, without one, of their type and
// assigner); identifiers of other systems (a FHIR push's) stay, in their
// place.
func TestMergePatientIdentifiers(t *testing.T) {
	const (
		mrn    = `{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":"urn:codebridge:hl7v2:CBHOSP:mr","value":"CB000123","assigner":{"display":"CBHOSP"}}`
		mrnOld = `{"system":"urn:codebridge:hl7v2:CBHOSP:mr","value":"CB000099"}`
		acct   = `{"system":"urn:codebridge:hl7v2:CBHOSP:an","value":"A20250314001"}`
		acct2  = `{"system":"urn:codebridge:hl7v2:CBHOSP:an","value":"A20250315002"}`
		ssn    = `{"system":"http://hl7.org/fhir/sid/us-ssn","value":"999-00-1234"}`
		portal = `{"system":"https://portal.example.org/id","value":"u-42"}`
		// Without a system: matched by type and assigner.
		localMR    = `{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"value":"L1","assigner":{"display":"CBHOSP"}}`
		localMR2   = `{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"value":"L2","assigner":{"display":"CBHOSP"}}`
		otherMR    = `{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"value":"O1","assigner":{"display":"OTHERHOSP"}}`
		bare       = `{"value":"no system, type or assigner"}`
		bareFreshA = `{"value":"A"}`
	)
	patient := func(ids ...string) string {
		p := `{"resourceType":"Patient","id":"p1"`
		if len(ids) > 0 {
			p += `,"identifier":[` + strings.Join(ids, ",") + `]`
		}
		return p + "}"
	}
	tests := []struct {
		name          string
		stored, fresh string
		want          string
	}{
		{"other systems stay, each system in its place", patient(mrn, ssn, acct, portal), patient(mrn, acct2), patient(mrn, ssn, acct2, portal)},
		{"a FHIR push's order is kept: no change", patient(ssn, mrn, acct), patient(mrn, acct), patient(ssn, mrn, acct)},
		{"every stored identifier of a sent system goes", patient(mrnOld, ssn, mrn), patient(mrn), patient(mrn, ssn)},
		{"a new system goes at the end", patient(ssn), patient(mrn), patient(ssn, mrn)},
		{"no system: by type and assigner", patient(localMR, otherMR, ssn), patient(localMR2), patient(localMR2, otherMR, ssn)},
		{"nothing to match by: kept, and added once", patient(bare, ssn), patient(mrn, bareFreshA), patient(bare, ssn, mrn, bareFreshA)},
		{"nothing stored: the mapped identifiers", patient(), patient(mrn, acct), patient(mrn, acct)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMerge(t, tt.stored, tt.fresh, v2fhir.PIDSent{}, tt.want, false)
		})
	}
}

// bundleEntry is one entry of a mapped Bundle, as JSON.
type bundleEntry struct {
	Resource json.RawMessage   `json:"resource"`
	Request  map[string]string `json:"request"`
}

// entries decodes a mapped Bundle's entries by request URL.
func entries(tb testing.TB, res *v2fhir.Result) map[string]bundleEntry {
	tb.Helper()
	var b struct{ Entry []bundleEntry }
	if err := json.Unmarshal(res.Bundle, &b); err != nil {
		tb.Fatal(err)
	}
	out := map[string]bundleEntry{}
	for _, e := range b.Entry {
		out[e.Request["url"]] = e
	}
	return out
}

// patientOf maps raw (with st when not nil) and returns the Patient entry's resource.
func patientOf(tb testing.TB, raw []byte, st *v2fhir.Stored) map[string]any {
	tb.Helper()
	var res *v2fhir.Result
	var err error
	if st == nil {
		res, err = v2fhir.Map(parse(tb, raw), opts, nil)
	} else {
		res, err = v2fhir.MapStored(parse(tb, raw), opts, *st)
	}
	if err != nil {
		tb.Fatalf("Map: %v", err)
	}
	plan(tb, res.Bundle) // the validating parse takes it
	e, ok := entries(tb, res)["Patient/"+res.PatientID]
	if !ok {
		tb.Fatal("no Patient entry")
	}
	return jsonValue(tb, e.Resource).(map[string]any)
}

func TestPatientDemographics(t *testing.T) {
	tests := []struct {
		name    string
		pid     string
		telecom string // JSON, "" = none
		address string
	}{
		{
			name:    "v2.5 phone and home address",
			pid:     "PID|1||MRN1^^^CBHOSP^MR||DOE^JO||19800215|F|||1 MAIN ST^APT 2^SPRINGFIELD^IL^62701^USA^H||^PRN^PH^^1^217^5550100^12",
			telecom: `[{"system":"phone","value":"+1 217 5550100 ext. 12","use":"home"}]`,
			address: `[{"use":"home","line":["1 MAIN ST","APT 2"],"city":"SPRINGFIELD","state":"IL","postalCode":"62701","country":"USA"}]`,
		},
		{
			name:    "e-mail, mobile, fax, business phone without use, pre-2.5 number",
			pid:     "PID|1||MRN1^^^CBHOSP^MR||DOE^JO||||||PO BOX 9^^^^^^M||^NET^Internet^jo@example.org~^PRS^CP^^^217^5550111~^^FX^^^217^5550112|(217)555-0199",
			telecom: `[{"system":"email","value":"jo@example.org"},{"system":"phone","value":"217 5550111","use":"mobile"},{"system":"fax","value":"217 5550112"},{"system":"phone","value":"(217)555-0199","use":"work"}]`,
			address: `[{"type":"postal","line":["PO BOX 9"]}]`,
		},
		{
			name: "empty repetitions and nulls map to nothing",
			pid:  `PID|1||MRN1^^^CBHOSP^MR||DOE^JO||""|||||^PRN^PH|""`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := message("ADT", "A08", "2.5.1", tt.pid, seg("PV1", 1, "1", 2, "O", 19, "V1^^^CBHOSP^VN"))
			p := patientOf(t, raw, nil)
			for _, f := range []struct{ key, want string }{{"telecom", tt.telecom}, {"address", tt.address}} {
				var want any
				if f.want != "" {
					want = jsonValue(t, []byte(f.want))
				}
				if diff := cmp.Diff(want, p[f.key]); diff != "" {
					t.Errorf("%s mismatch (-want +got):\n%s", f.key, diff)
				}
			}
		})
	}
}

// TestMapStoredMergesThinPID: an A08 or DFT whose PID carries only the
// MRN and name keeps what the A01 stored; an explicit null clears.
func TestMapStoredMergesThinPID(t *testing.T) {
	a01, err := v2fhir.Map(parse(t, readMessage(t, "adt-a01")), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	stored := entries(t, a01)["Patient/"+a01.PatientID].Resource
	full := jsonValue(t, stored).(map[string]any)
	for _, k := range []string{"address", "telecom", "birthDate", "gender"} {
		if full[k] == nil {
			t.Fatalf("the A01's Patient has no %s: the test needs it", k)
		}
	}
	pv1 := seg("PV1", 1, "1", 2, "I", 19, "V20250314001^^^CBHOSP^VN")
	thin := message("ADT", "A08", "2.5.1", "PID|1||CB000123^^^CBHOSP^MR||ZZTEST^ALEX^J^^^^L", pv1)
	st := &v2fhir.Stored{Patient: stored, PatientVersion: 1}
	if diff := cmp.Diff(full, patientOf(t, thin, st)); diff != "" {
		t.Errorf("thin A08 merged (-want +got):\n%s", diff)
	}
	if got := patientOf(t, thin, nil); got["address"] != nil || got["birthDate"] != nil {
		t.Errorf("Map without a stored Patient invented elements: %v", got)
	}
	nulls := message("ADT", "A08", "2.5.1", `PID|1||CB000123^^^CBHOSP^MR||ZZTEST^ALEX^J^^^^L||""||||""`, pv1)
	got := patientOf(t, nulls, st)
	if got["birthDate"] != nil || got["address"] != nil || got["telecom"] == nil || got["gender"] == nil {
		t.Errorf("PID-7 and PID-11 sent as \"\": got %v, want birthDate and address cleared, telecom and gender kept", got)
	}
	if _, err := v2fhir.MapStored(parse(t, thin), opts, v2fhir.Stored{Patient: []byte(`"not an object"`)}); err == nil {
		t.Error("a stored Patient that is not an object: no error")
	} else if _, isMsg := err.(*v2fhir.Error); isMsg {
		t.Errorf("a stored Patient that is not an object is %v, a fault of the message", err)
	}
}

// TestMapStoredMergesByOrigin: an A08 with only PID-13 keeps the
// business phone an earlier PID-14 stored, and its PID-3 keeps an
// identifier a FHIR push added; PID-14 "" clears only the business phone.
func TestMapStoredMergesByOrigin(t *testing.T) {
	pv1 := seg("PV1", 1, "1", 2, "I", 19, "V20250314001^^^CBHOSP^VN")
	a01 := message("ADT", "A01", "2.5.1", "PID|1||CB000123^^^CBHOSP^MR||ZZTEST^ALEX||||||||^PRN^PH^^1^217^5550100|^WPN^PH^^1^217^5550177", pv1)
	p := patientOf(t, a01, nil)
	p["identifier"] = append(p["identifier"].([]any), map[string]any{"system": "https://portal.example.org/id", "value": "u-42"})
	stored, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	st := &v2fhir.Stored{Patient: stored, PatientVersion: 2}
	tests := []struct {
		name, pid string
		telecom   []string // the values left, in order
		ids       int
	}{
		{"PID-13 only", "PID|1||CB000123^^^CBHOSP^MR||ZZTEST^ALEX||||||||^PRN^PH^^1^217^5550200", []string{"+1 217 5550200", "+1 217 5550177"}, 2},
		{"PID-14 only", "PID|1||CB000123^^^CBHOSP^MR||ZZTEST^ALEX|||||||||^WPN^PH^^1^217^5550288", []string{"+1 217 5550100", "+1 217 5550288"}, 2},
		{`PID-14 ""`, `PID|1||CB000123^^^CBHOSP^MR||ZZTEST^ALEX|||||||||""`, []string{"+1 217 5550100"}, 2},
		{"neither", "PID|1||CB000123^^^CBHOSP^MR||ZZTEST^ALEX", []string{"+1 217 5550100", "+1 217 5550177"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := patientOf(t, message("ADT", "A08", "2.5.1", tt.pid, pv1), st)
			var values []string
			for _, c := range got["telecom"].([]any) {
				values = append(values, c.(map[string]any)["value"].(string))
			}
			if diff := cmp.Diff(tt.telecom, values); diff != "" {
				t.Errorf("telecom mismatch (-want +got):\n%s", diff)
			}
			if ids := got["identifier"].([]any); len(ids) != tt.ids || ids[1].(map[string]any)["value"] != "u-42" {
				t.Errorf("identifiers %v, want the MRN and the FHIR push's portal id", ids)
			}
		})
	}
}

// TestMapStoredConditions: the Encounter and Patient entries carry
// ifMatch on the versions read, or ifNoneMatch "*" when nothing was
// stored; the other entries are unconditional.
func TestMapStoredConditions(t *testing.T) {
	msg := parse(t, readMessage(t, "adt-a03"))
	tests := []struct {
		name         string
		st           v2fhir.Stored
		encIf, patIf map[string]string
	}{
		{"nothing stored", v2fhir.Stored{}, map[string]string{"ifNoneMatch": "*"}, map[string]string{"ifNoneMatch": "*"}},
		{"both stored", v2fhir.Stored{Encounter: &v2fhir.Prior{Status: "in-progress"}, EncounterVersion: 3, Patient: []byte(`{"resourceType":"Patient","id":"x"}`), PatientVersion: 12},
			map[string]string{"ifMatch": `W/"3"`}, map[string]string{"ifMatch": `W/"12"`}},
		{"withdrawn visit", v2fhir.Stored{Encounter: &v2fhir.Prior{Status: "entered-in-error"}, PatientVersion: 0},
			map[string]string{"ifNoneMatch": "*"}, map[string]string{"ifNoneMatch": "*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := v2fhir.MapStored(msg, opts, tt.st)
			if err != nil {
				t.Fatal(err)
			}
			for url, e := range entries(t, res) {
				cond := map[string]string{}
				for k, v := range e.Request {
					if k != "method" && k != "url" {
						cond[k] = v
					}
				}
				want := map[string]string{}
				switch url {
				case "Encounter/" + res.EncounterID:
					want = tt.encIf
				case "Patient/" + res.PatientID:
					want = tt.patIf
				}
				if diff := cmp.Diff(want, cond); diff != "" {
					t.Errorf("%s conditions mismatch (-want +got):\n%s", url, diff)
				}
			}
			for _, w := range plan(t, res.Bundle) {
				if w.Type == "Encounter" && w.IfMatch != tt.st.EncounterVersion {
					t.Errorf("planned Encounter If-Match %d, want %d", w.IfMatch, tt.st.EncounterVersion)
				}
			}
		})
	}
}
