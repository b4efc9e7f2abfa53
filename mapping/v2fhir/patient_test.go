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
		nulled  []string
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
			nulled: []string{"telecom", "birthDate", "address"},
			want: `{"resourceType":"Patient","id":"p1","meta":{"profile":["http://example.org/p"]},
				"identifier":[{"system":"urn:mrn","value":"MRN1"}],"name":[{"family":"ZZTEST","given":["ALEX"]}],
				"gender":"female","maritalStatus":{"text":"S"}}`,
		},
		{
			name:   "a null for an element the stored Patient lacks changes nothing",
			stored: `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>"},"gender":"male"}`,
			fresh:  `{"resourceType":"Patient","id":"p1","gender":"male"}`,
			nulled: []string{"address"},
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
			got, err := v2fhir.MergePatient([]byte(tt.stored), []byte(tt.fresh), tt.nulled)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("MergePatient = %s, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(jsonValue(t, []byte(tt.want)), jsonValue(t, got)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(string(got), `{"resourceType":"Patient","id":"p1"`) {
				t.Errorf("output does not start with resourceType and id: %s", got)
			}
			again, _ := v2fhir.MergePatient([]byte(tt.stored), []byte(tt.fresh), tt.nulled)
			if string(again) != string(got) {
				t.Error("merging twice gave different bytes")
			}
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
