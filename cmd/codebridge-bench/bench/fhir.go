package bench

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/codebridge/codebridge/fhir"
)

// Synthetic people and places for the load generator. Nothing here is
// anyone's data: names are drawn from short lists of common words.

// mrnSystem is the identifier system of generated patients' MRNs.
const mrnSystem = "https://bench.codebridge.example/mrn"

var (
	given  = []string{"Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kira", "Liam", "Maya", "Noah", "Olga", "Pat", "Quinn", "Rosa", "Sam", "Tara"}
	family = []string{"Alder", "Birch", "Cedar", "Dale", "Elm", "Ford", "Glen", "Hale", "Irving", "Jasper", "Knoll", "Lark", "Moss", "North", "Oak", "Pine", "Reed", "Stone", "Vale", "Wren"}
	payers = []string{"Medicare Part B", "State Medicaid", "Acme Health Plan", "Blue Ridge Health", "Summit Mutual"}
	cities = []struct{ City, State, Zip string }{{"Springfield", "IL", "62701"}, {"Riverton", "WY", "82501"}, {"Lakeside", "OH", "43440"}, {"Fairview", "TN", "37062"}}
	orgs   = map[string][]string{
		telehealth: {"Riverside Telehealth Group", "BrightPath Virtual Care"},
		office:     {"Lakeside Family Medicine", "Northgate Internal Medicine", "Cedar Park Primary Care"},
		ed:         {"Mercy General Hospital Emergency Department", "St. Anne Regional Emergency Department"},
		inpatient:  {"Mercy General Hospital", "St. Anne Regional Medical Center"},
	}
	// encounterClass is Encounter.class (v3 ActCode) per kind.
	encounterClass = map[string][2]string{telehealth: {"VR", "virtual"}, office: {"AMB", "ambulatory"},
		ed: {"EMER", "emergency"}, inpatient: {"IMP", "inpatient encounter"}}
	// noteType is DocumentReference.type (LOINC) per kind.
	noteType = map[string][2]string{telehealth: {"11506-3", "Progress note"}, office: {"11506-3", "Progress note"},
		ed: {"34111-5", "Emergency department note"}, inpatient: {"18842-5", "Discharge summary"}}
)

// makeNPI makes a valid NPI (Luhn check digit over the 80840 prefix) from
// a 9-digit base.
func makeNPI(base int) string {
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

func (b *visitBuilder) patient() jsonObj {
	r := b.r
	age := map[string][2]int{telehealth: {18, 80}, office: {18, 90}, ed: {2, 95}, inpatient: {40, 95}}[b.kind]
	birth := b.start.AddDate(-(age[0] + r.IntN(age[1]-age[0])), 0, -r.IntN(365))
	place := cities[r.IntN(len(cities))]
	return jsonObj{
		"identifier": []jsonObj{{"use": "usual", "system": mrnSystem, "value": b.mrn(),
			"type": codeable(fhir.SystemIdentifierType, "MR", "Medical record number")}},
		"active":    true,
		"name":      []jsonObj{{"use": "official", "family": family[r.IntN(len(family))], "given": []string{given[r.IntN(len(given))]}}},
		"gender":    []string{"female", "male"}[r.IntN(2)],
		"birthDate": birth.Format(time.DateOnly),
		"address":   []jsonObj{{"line": []string{fmt.Sprintf("%d Main St", 1+r.IntN(900))}, "city": place.City, "state": place.State, "postalCode": place.Zip}},
	}
}

func (b *visitBuilder) coverage() jsonObj {
	return jsonObj{
		"status":       "active",
		"type":         codeable(fhir.SystemActCode, "HIP", "health insurance plan policy"),
		"subscriberId": fmt.Sprintf("S%09d", b.r.IntN(1_000_000_000)),
		"beneficiary":  b.ref("patient"),
		"relationship": codeable("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self"),
		"period":       jsonObj{"start": fmt.Sprintf("%d-01-01", b.start.Year())},
		"payor":        []jsonObj{{"display": payers[b.r.IntN(len(payers))]}},
	}
}

// Clinicians is how many clinicians each organization has.
const Clinicians = 6

// provider picks the kind's organization and one of its clinicians; both
// are sent as conditional creates on their NPI, as EHRs do.
func (b *visitBuilder) provider() (org, prac jsonObj, orgNPI, pracNPI string) {
	o := b.r.IntN(len(orgs[b.kind]))
	org, orgNPI = organization(b.kind, o)
	prac, pracNPI = practitioner(b.kind, o, b.r.IntN(Clinicians))
	return org, prac, orgNPI, pracNPI
}

// organization is organization o of a kind of visit, and its NPI.
func organization(kind string, o int) (jsonObj, string) {
	npi := makeNPI(100000000 + 10*kindOrder(kind) + o)
	return jsonObj{
		"identifier": []jsonObj{{"system": fhir.SystemNPI, "value": npi}},
		"active":     true,
		"name":       orgs[kind][o],
	}, npi
}

// practitioner is clinician p of organization o, and its NPI.
func practitioner(kind string, o, p int) (jsonObj, string) {
	k := kindOrder(kind)
	npi := makeNPI(200000000 + 100*k + 10*o + p)
	return jsonObj{
		"identifier": []jsonObj{{"system": fhir.SystemNPI, "value": npi}},
		"name": []jsonObj{{"family": family[(7*k+3*o+p)%len(family)],
			"given": []string{given[(5*k+o+3*p)%len(given)]}, "prefix": []string{"Dr."}}},
	}, npi
}

func (b *visitBuilder) encounter() jsonObj {
	class := encounterClass[b.kind]
	enc := jsonObj{
		"identifier":      []jsonObj{{"system": "https://bench.codebridge.example/visits", "value": "V" + b.label}},
		"status":          "finished",
		"class":           jsonObj{"system": fhir.SystemActCode, "code": class[0], "display": class[1]},
		"subject":         b.ref("patient"),
		"participant":     []jsonObj{{"type": []jsonObj{codeable(fhir.SystemParticipantType, "ATND", "attender")}, "individual": b.ref("practitioner")}},
		"period":          jsonObj{"start": rfc3339(b.start), "end": rfc3339(b.end)},
		"serviceProvider": b.ref("org"),
	}
	if b.kind == inpatient {
		enc["hospitalization"] = jsonObj{
			"admitSource":          codeable("http://terminology.hl7.org/CodeSystem/admit-source", "emd", "From accident/emergency department"),
			"dischargeDisposition": codeable("http://terminology.hl7.org/CodeSystem/discharge-disposition", "home", "Home"),
		}
	}
	return enc
}

func (b *visitBuilder) condition(d diagnosis) jsonObj {
	return jsonObj{
		"clinicalStatus":     codeable(fhir.SystemConditionClinical, "active", "Active"),
		"verificationStatus": codeable(fhir.SystemConditionVerification, "confirmed", "Confirmed"),
		"category":           []jsonObj{codeable(fhir.SystemConditionCategory, "encounter-diagnosis", "Encounter Diagnosis")},
		"code": jsonObj{"coding": []jsonObj{
			{"system": fhir.SystemICD10CM, "code": d.ICD, "display": b.g.titles.of(fhir.SystemICD10CM, d.ICD)},
			{"system": fhir.SystemSNOMED, "code": d.SNOMED, "display": d.Term},
		}, "text": d.Term},
		"subject":      b.ref("patient"),
		"encounter":    b.ref("encounter"),
		"recordedDate": rfc3339(b.end),
	}
}

// procedureCodings picks the visit's procedures: an outpatient visit bills
// its E/M service and up to three more CPT (or, on dates the bundled HCPCS
// quarter covers, HCPCS) codes; an inpatient stay has 0-4 ICD-10-PCS codes.
func (b *visitBuilder) procedureCodings() []jsonObj {
	px := procedures[b.kind]
	var out []jsonObj
	if b.kind == inpatient {
		for _, c := range sample(b.r, px.PCS, weighted(b.r, 20, 35, 25, 12, 8)) {
			out = append(out, jsonObj{"system": fhir.SystemICD10PCS, "code": c, "display": b.g.titles.of(fhir.SystemICD10PCS, c)})
		}
		return out
	}
	out = append(out, jsonObj{"system": fhir.SystemCPT, "code": px.EM[b.r.IntN(len(px.EM))]})
	extras := px.CPT
	day := b.start.Truncate(24 * time.Hour)
	if !day.Before(hcpcsFrom) && !day.After(hcpcsTo) {
		extras = append(append([]string{}, px.CPT...), px.HCPCS...)
	}
	for _, c := range sample(b.r, extras, weighted(b.r, 45, 30, 15, 10)) {
		if t := b.g.titles.of(fhir.SystemHCPCS, c); t != "" {
			out = append(out, jsonObj{"system": fhir.SystemHCPCS, "code": c, "display": t})
		} else {
			out = append(out, jsonObj{"system": fhir.SystemCPT, "code": c})
		}
	}
	return out
}

func (b *visitBuilder) procedure(coding jsonObj) jsonObj {
	at := b.start
	if b.kind == inpatient {
		at = at.Add(time.Duration(b.r.Int64N(int64(b.end.Sub(b.start)))))
	}
	return jsonObj{
		"status":            "completed",
		"code":              jsonObj{"coding": []jsonObj{coding}},
		"subject":           b.ref("patient"),
		"encounter":         b.ref("encounter"),
		"performedDateTime": rfc3339(at),
	}
}

func (b *visitBuilder) note(dxs []diagnosis) jsonObj {
	typ := noteType[b.kind]
	return jsonObj{
		"status":    "current",
		"docStatus": "final",
		"type":      codeable(fhir.SystemLOINC, typ[0], typ[1]),
		"category":  []jsonObj{codeable("http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category", "clinical-note", "Clinical Note")},
		"subject":   b.ref("patient"),
		"date":      rfc3339(b.end.Add(time.Duration(5+b.r.IntN(55)) * time.Minute)),
		"author":    []jsonObj{b.ref("practitioner")},
		"content": []jsonObj{{"attachment": jsonObj{"contentType": "text/plain", "title": typ[1],
			"data": base64.StdEncoding.EncodeToString([]byte(b.noteText(dxs)))}}},
		"context": jsonObj{"encounter": []jsonObj{b.ref("encounter")}, "period": jsonObj{"start": rfc3339(b.start), "end": rfc3339(b.end)}},
	}
}

// noteText writes a short synthetic clinical note naming the diagnoses.
func (b *visitBuilder) noteText(dxs []diagnosis) string {
	r := b.r
	terms := make([]string, len(dxs))
	for i, d := range dxs {
		terms[i] = strings.ToLower(d.Term)
	}
	var s strings.Builder
	opening := map[string]string{
		telehealth: "Telehealth visit, synchronous audio and video; patient at home, identity confirmed.",
		office:     "Office visit.",
		ed:         "Emergency department visit; arrived by private vehicle, triaged on arrival.",
		inpatient:  "Discharge summary. Admitted through the emergency department.",
	}[b.kind]
	fmt.Fprintf(&s, "%s\nChief complaint: %s, for %d days.\n", opening, terms[0], 1+r.IntN(14))
	fmt.Fprintf(&s, "History: symptoms %s since onset; no recent travel. Medications reviewed and reconciled. Allergies: %s.\n",
		[]string{"gradually worsening", "stable", "improving", "intermittent"}[r.IntN(4)], []string{"none known", "penicillin", "sulfa drugs"}[r.IntN(3)])
	fmt.Fprintf(&s, "Vitals: BP %d/%d, HR %d, T %.1f C, SpO2 %d%%.\n", 105+r.IntN(50), 60+r.IntN(30), 58+r.IntN(50), 36.2+float64(r.IntN(25))/10, 91+r.IntN(9))
	fmt.Fprintf(&s, "Examination: %s.\n", []string{"no acute distress, lungs clear, heart regular", "mild distress, tender on examination", "alert and oriented, exam otherwise unremarkable"}[r.IntN(3)])
	fmt.Fprintf(&s, "Assessment: %s.\n", strings.Join(terms, "; "))
	fmt.Fprintf(&s, "Plan: %s; return precautions discussed; follow up in %d weeks.\n",
		[]string{"supportive care and symptomatic treatment", "medication adjusted as discussed", "labs ordered and results reviewed", "referral placed"}[r.IntN(4)], 1+r.IntN(6))
	if b.kind == inpatient {
		fmt.Fprintf(&s, "Hospital course: length of stay %d days, treated per protocol, condition at discharge stable.\n", int(b.end.Sub(b.start).Hours()/24)+1)
	}
	return s.String()
}

// codeable is a CodeableConcept with one coding.
func codeable(system, code, display string) jsonObj {
	return jsonObj{"coding": []jsonObj{{"system": system, "code": code, "display": display}}}
}
