package main

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/codebridge/codebridge/fhir"
)

// Synthetic people and places for the load generator. Nothing here is
// anyone's data: names are drawn from short lists of common words.

// benchMRNSystem is the identifier system of generated patients' MRNs.
const benchMRNSystem = "https://bench.codebridge.example/mrn"

var (
	benchGiven  = []string{"Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kira", "Liam", "Maya", "Noah", "Olga", "Pat", "Quinn", "Rosa", "Sam", "Tara"}
	benchFamily = []string{"Alder", "Birch", "Cedar", "Dale", "Elm", "Ford", "Glen", "Hale", "Irving", "Jasper", "Knoll", "Lark", "Moss", "North", "Oak", "Pine", "Reed", "Stone", "Vale", "Wren"}
	benchPayers = []string{"Medicare Part B", "State Medicaid", "Acme Health Plan", "Blue Ridge Health", "Summit Mutual"}
	benchCities = []struct{ City, State, Zip string }{{"Springfield", "IL", "62701"}, {"Riverton", "WY", "82501"}, {"Lakeside", "OH", "43440"}, {"Fairview", "TN", "37062"}}
	benchOrgs   = map[string][]string{
		benchTelehealth: {"Riverside Telehealth Group", "BrightPath Virtual Care"},
		benchOffice:     {"Lakeside Family Medicine", "Northgate Internal Medicine", "Cedar Park Primary Care"},
		benchED:         {"Mercy General Hospital Emergency Department", "St. Anne Regional Emergency Department"},
		benchInpatient:  {"Mercy General Hospital", "St. Anne Regional Medical Center"},
	}
	// benchClass is Encounter.class (v3 ActCode) per kind.
	benchClass = map[string][2]string{benchTelehealth: {"VR", "virtual"}, benchOffice: {"AMB", "ambulatory"},
		benchED: {"EMER", "emergency"}, benchInpatient: {"IMP", "inpatient encounter"}}
	// benchNoteType is DocumentReference.type (LOINC) per kind.
	benchNoteType = map[string][2]string{benchTelehealth: {"11506-3", "Progress note"}, benchOffice: {"11506-3", "Progress note"},
		benchED: {"34111-5", "Emergency department note"}, benchInpatient: {"18842-5", "Discharge summary"}}
)

// benchNPI makes a valid NPI (Luhn check digit over the 80840 prefix) from
// a 9-digit base.
func benchNPI(base int) string {
	digits := fmt.Sprintf("80840%09d", base)
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if (len(digits)-1-i)%2 == 0 { // doubled: every second digit from the right of the payload
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return fmt.Sprintf("%09d%d", base, (10-sum%10)%10)
}

func (b *visitBuilder) mrn() string { return "B" + b.label }

func (b *visitBuilder) patient() benchObj {
	r := b.r
	age := map[string][2]int{benchTelehealth: {18, 80}, benchOffice: {18, 90}, benchED: {2, 95}, benchInpatient: {40, 95}}[b.kind]
	birth := b.start.AddDate(-(age[0] + r.IntN(age[1]-age[0])), 0, -r.IntN(365))
	place := benchCities[r.IntN(len(benchCities))]
	return benchObj{
		"identifier": []benchObj{{"use": "usual", "system": benchMRNSystem, "value": b.mrn(),
			"type": benchCC(fhir.SystemIdentifierType, "MR", "Medical record number")}},
		"active":    true,
		"name":      []benchObj{{"use": "official", "family": benchFamily[r.IntN(len(benchFamily))], "given": []string{benchGiven[r.IntN(len(benchGiven))]}}},
		"gender":    []string{"female", "male"}[r.IntN(2)],
		"birthDate": birth.Format(time.DateOnly),
		"address":   []benchObj{{"line": []string{fmt.Sprintf("%d Main St", 1+r.IntN(900))}, "city": place.City, "state": place.State, "postalCode": place.Zip}},
	}
}

func (b *visitBuilder) coverage() benchObj {
	return benchObj{
		"status":       "active",
		"type":         benchCC(fhir.SystemActCode, "HIP", "health insurance plan policy"),
		"subscriberId": fmt.Sprintf("S%09d", b.r.IntN(1_000_000_000)),
		"beneficiary":  b.ref("patient"),
		"relationship": benchCC("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self"),
		"period":       benchObj{"start": fmt.Sprintf("%d-01-01", b.start.Year())},
		"payor":        []benchObj{{"display": benchPayers[b.r.IntN(len(benchPayers))]}},
	}
}

// benchClinicians is how many clinicians each organization has.
const benchClinicians = 6

// provider picks the kind's organization and one of its clinicians; both
// are sent as conditional creates on their NPI, as EHRs do.
func (b *visitBuilder) provider() (org, prac benchObj, orgNPI, pracNPI string) {
	o := b.r.IntN(len(benchOrgs[b.kind]))
	org, orgNPI = benchOrganization(b.kind, o)
	prac, pracNPI = benchPractitioner(b.kind, o, b.r.IntN(benchClinicians))
	return org, prac, orgNPI, pracNPI
}

// benchOrganization is organization o of a kind of visit, and its NPI.
func benchOrganization(kind string, o int) (benchObj, string) {
	npi := benchNPI(100000000 + 10*benchKindOrder(kind) + o)
	return benchObj{
		"identifier": []benchObj{{"system": fhir.SystemNPI, "value": npi}},
		"active":     true,
		"name":       benchOrgs[kind][o],
	}, npi
}

// benchPractitioner is clinician p of organization o, and its NPI.
func benchPractitioner(kind string, o, p int) (benchObj, string) {
	k := benchKindOrder(kind)
	npi := benchNPI(200000000 + 100*k + 10*o + p)
	return benchObj{
		"identifier": []benchObj{{"system": fhir.SystemNPI, "value": npi}},
		"name": []benchObj{{"family": benchFamily[(7*k+3*o+p)%len(benchFamily)],
			"given": []string{benchGiven[(5*k+o+3*p)%len(benchGiven)]}, "prefix": []string{"Dr."}}},
	}, npi
}

func (b *visitBuilder) encounter() benchObj {
	class := benchClass[b.kind]
	enc := benchObj{
		"identifier":      []benchObj{{"system": "https://bench.codebridge.example/visits", "value": "V" + b.label}},
		"status":          "finished",
		"class":           benchObj{"system": fhir.SystemActCode, "code": class[0], "display": class[1]},
		"subject":         b.ref("patient"),
		"participant":     []benchObj{{"type": []benchObj{benchCC(fhir.SystemParticipantType, "ATND", "attender")}, "individual": b.ref("practitioner")}},
		"period":          benchObj{"start": benchTime(b.start), "end": benchTime(b.end)},
		"serviceProvider": b.ref("org"),
	}
	if b.kind == benchInpatient {
		enc["hospitalization"] = benchObj{
			"admitSource":          benchCC("http://terminology.hl7.org/CodeSystem/admit-source", "emd", "From accident/emergency department"),
			"dischargeDisposition": benchCC("http://terminology.hl7.org/CodeSystem/discharge-disposition", "home", "Home"),
		}
	}
	return enc
}

func (b *visitBuilder) condition(d benchDx) benchObj {
	return benchObj{
		"clinicalStatus":     benchCC(fhir.SystemConditionClinical, "active", "Active"),
		"verificationStatus": benchCC(fhir.SystemConditionVerification, "confirmed", "Confirmed"),
		"category":           []benchObj{benchCC(fhir.SystemConditionCategory, "encounter-diagnosis", "Encounter Diagnosis")},
		"code": benchObj{"coding": []benchObj{
			{"system": fhir.SystemICD10CM, "code": d.ICD, "display": b.g.titles.of(fhir.SystemICD10CM, d.ICD)},
			{"system": fhir.SystemSNOMED, "code": d.SNOMED, "display": d.Term},
		}, "text": d.Term},
		"subject":      b.ref("patient"),
		"encounter":    b.ref("encounter"),
		"recordedDate": benchTime(b.end),
	}
}

// procedureCodings picks the visit's procedures: an outpatient visit bills
// its E/M service and up to three more CPT (or, on dates the bundled HCPCS
// quarter covers, HCPCS) codes; an inpatient stay has 0-4 ICD-10-PCS codes.
func (b *visitBuilder) procedureCodings() []benchObj {
	px := benchProcedures[b.kind]
	var out []benchObj
	if b.kind == benchInpatient {
		for _, c := range benchSample(b.r, px.PCS, benchWeighted(b.r, 20, 35, 25, 12, 8)) {
			out = append(out, benchObj{"system": fhir.SystemICD10PCS, "code": c, "display": b.g.titles.of(fhir.SystemICD10PCS, c)})
		}
		return out
	}
	out = append(out, benchObj{"system": fhir.SystemCPT, "code": px.EM[b.r.IntN(len(px.EM))]})
	extras := px.CPT
	day := b.start.Truncate(24 * time.Hour)
	if !day.Before(benchHCPCSFrom) && !day.After(benchHCPCSTo) {
		extras = append(append([]string{}, px.CPT...), px.HCPCS...)
	}
	for _, c := range benchSample(b.r, extras, benchWeighted(b.r, 45, 30, 15, 10)) {
		if t := b.g.titles.of(fhir.SystemHCPCS, c); t != "" {
			out = append(out, benchObj{"system": fhir.SystemHCPCS, "code": c, "display": t})
		} else {
			out = append(out, benchObj{"system": fhir.SystemCPT, "code": c})
		}
	}
	return out
}

func (b *visitBuilder) procedure(coding benchObj) benchObj {
	at := b.start
	if b.kind == benchInpatient {
		at = at.Add(time.Duration(b.r.Int64N(int64(b.end.Sub(b.start)))))
	}
	return benchObj{
		"status":            "completed",
		"code":              benchObj{"coding": []benchObj{coding}},
		"subject":           b.ref("patient"),
		"encounter":         b.ref("encounter"),
		"performedDateTime": benchTime(at),
	}
}

func (b *visitBuilder) note(dxs []benchDx) benchObj {
	typ := benchNoteType[b.kind]
	return benchObj{
		"status":    "current",
		"docStatus": "final",
		"type":      benchCC(fhir.SystemLOINC, typ[0], typ[1]),
		"category":  []benchObj{benchCC("http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category", "clinical-note", "Clinical Note")},
		"subject":   b.ref("patient"),
		"date":      benchTime(b.end.Add(time.Duration(5+b.r.IntN(55)) * time.Minute)),
		"author":    []benchObj{b.ref("practitioner")},
		"content": []benchObj{{"attachment": benchObj{"contentType": "text/plain", "title": typ[1],
			"data": base64.StdEncoding.EncodeToString([]byte(b.noteText(dxs)))}}},
		"context": benchObj{"encounter": []benchObj{b.ref("encounter")}, "period": benchObj{"start": benchTime(b.start), "end": benchTime(b.end)}},
	}
}

// noteText writes a short synthetic clinical note naming the diagnoses.
func (b *visitBuilder) noteText(dxs []benchDx) string {
	r := b.r
	terms := make([]string, len(dxs))
	for i, d := range dxs {
		terms[i] = strings.ToLower(d.Term)
	}
	var s strings.Builder
	opening := map[string]string{
		benchTelehealth: "Telehealth visit, synchronous audio and video; patient at home, identity confirmed.",
		benchOffice:     "Office visit.",
		benchED:         "Emergency department visit; arrived by private vehicle, triaged on arrival.",
		benchInpatient:  "Discharge summary. Admitted through the emergency department.",
	}[b.kind]
	fmt.Fprintf(&s, "%s\nChief complaint: %s, for %d days.\n", opening, terms[0], 1+r.IntN(14))
	fmt.Fprintf(&s, "History: symptoms %s since onset; no recent travel. Medications reviewed and reconciled. Allergies: %s.\n",
		[]string{"gradually worsening", "stable", "improving", "intermittent"}[r.IntN(4)], []string{"none known", "penicillin", "sulfa drugs"}[r.IntN(3)])
	fmt.Fprintf(&s, "Vitals: BP %d/%d, HR %d, T %.1f C, SpO2 %d%%.\n", 105+r.IntN(50), 60+r.IntN(30), 58+r.IntN(50), 36.2+float64(r.IntN(25))/10, 91+r.IntN(9))
	fmt.Fprintf(&s, "Examination: %s.\n", []string{"no acute distress, lungs clear, heart regular", "mild distress, tender on examination", "alert and oriented, exam otherwise unremarkable"}[r.IntN(3)])
	fmt.Fprintf(&s, "Assessment: %s.\n", strings.Join(terms, "; "))
	fmt.Fprintf(&s, "Plan: %s; return precautions discussed; follow up in %d weeks.\n",
		[]string{"supportive care and symptomatic treatment", "medication adjusted as discussed", "labs ordered and results reviewed", "referral placed"}[r.IntN(4)], 1+r.IntN(6))
	if b.kind == benchInpatient {
		fmt.Fprintf(&s, "Hospital course: length of stay %d days, treated per protocol, condition at discharge stable.\n", int(b.end.Sub(b.start).Hours()/24)+1)
	}
	return s.String()
}

// benchCC is a CodeableConcept with one coding.
func benchCC(system, code, display string) benchObj {
	return benchObj{"coding": []benchObj{{"system": system, "code": code, "display": display}}}
}
