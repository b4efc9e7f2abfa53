package bench

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/codes"
)

// The curated code lists the load generator draws from: common, billable
// FY2026 codes per kind of visit. Every ICD-10-CM, ICD-10-PCS and HCPCS code
// here is checked against the bundled code sets when the generator is built
// (codeTable), which also supplies their official titles; CPT codes
// carry no display (CPT descriptors are AMA copyright and never shipped).

// diagnosis is one diagnosis of a visit: an ICD-10-CM code and the SNOMED CT concept an
// EHR problem list would carry beside it.
type diagnosis struct {
	ICD, SNOMED, Term string
}

// diagnoses are the diagnoses of each kind of visit.
var diagnoses = map[string][]diagnosis{
	telehealth: {
		{"J06.9", "54150009", "Upper respiratory infection"}, {"I10", "59621000", "Essential hypertension"},
		{"E11.9", "44054006", "Diabetes mellitus type 2"}, {"J20.9", "10509002", "Acute bronchitis"},
		{"F41.1", "21897009", "Generalized anxiety disorder"}, {"F32.A", "35489007", "Depressive disorder"},
		{"M54.50", "279039007", "Low back pain"}, {"J02.9", "363746003", "Acute pharyngitis"},
		{"N39.0", "68566005", "Urinary tract infectious disease"}, {"K21.9", "235595009", "Gastroesophageal reflux disease"},
		{"E78.5", "55822004", "Hyperlipidemia"}, {"G43.909", "37796009", "Migraine"},
		{"J45.909", "195967001", "Asthma"}, {"E66.9", "414916001", "Obesity"},
		{"R05.9", "49727002", "Cough"}, {"J01.90", "15805002", "Acute sinusitis"},
		{"E03.9", "40930008", "Hypothyroidism"}, {"J30.1", "21719001", "Allergic rhinitis due to pollen"},
		{"R30.0", "49650001", "Dysuria"}, {"R21", "271807003", "Eruption of skin"},
		{"H10.33", "9826008", "Conjunctivitis"},
	},
	office: {
		{"I10", "59621000", "Essential hypertension"}, {"E11.9", "44054006", "Diabetes mellitus type 2"},
		{"E78.5", "55822004", "Hyperlipidemia"}, {"M17.11", "239873007", "Osteoarthritis of knee"},
		{"J06.9", "54150009", "Upper respiratory infection"}, {"J45.909", "195967001", "Asthma"},
		{"E66.9", "414916001", "Obesity"}, {"E03.9", "40930008", "Hypothyroidism"},
		{"L03.90", "128045006", "Cellulitis"}, {"H66.90", "65363002", "Otitis media"},
		{"M54.50", "279039007", "Low back pain"}, {"K21.9", "235595009", "Gastroesophageal reflux disease"},
		{"F41.1", "21897009", "Generalized anxiety disorder"}, {"D64.9", "271737000", "Anemia"},
		{"N18.30", "433144002", "Chronic kidney disease stage 3"}, {"K59.00", "14760008", "Constipation"},
		{"J01.90", "15805002", "Acute sinusitis"}, {"R42", "404640003", "Dizziness"},
	},
	ed: {
		{"R07.9", "29857009", "Chest pain"}, {"R10.9", "21522001", "Abdominal pain"},
		{"R51.9", "25064002", "Headache"}, {"R55", "271594007", "Syncope"},
		{"R11.2", "16932000", "Nausea and vomiting"}, {"K52.9", "25374005", "Gastroenteritis"},
		{"S93.401A", "44465007", "Sprain of ankle"}, {"J18.9", "233604007", "Pneumonia"},
		{"N39.0", "68566005", "Urinary tract infectious disease"}, {"R06.02", "267036007", "Dyspnea"},
		{"R50.9", "386661006", "Fever"}, {"N20.0", "95570007", "Kidney stone"},
		{"E86.0", "34095006", "Dehydration"}, {"R42", "404640003", "Dizziness"},
		{"L03.90", "128045006", "Cellulitis"}, {"J45.909", "195967001", "Asthma"},
		{"I10", "59621000", "Essential hypertension"},
	},
	inpatient: {
		{"A41.9", "91302008", "Sepsis"}, {"J18.9", "233604007", "Pneumonia"},
		{"I50.9", "84114007", "Heart failure"}, {"N17.9", "14669001", "Acute renal failure syndrome"},
		{"J44.1", "195951007", "Acute exacerbation of chronic obstructive airways disease"},
		{"I21.4", "401314000", "Acute non-ST segment elevation myocardial infarction"},
		{"I48.91", "49436004", "Atrial fibrillation"}, {"E87.1", "89627008", "Hyponatremia"},
		{"K85.90", "197456007", "Acute pancreatitis"}, {"I63.9", "432504007", "Cerebral infarction"},
		{"K35.80", "85189001", "Acute appendicitis"}, {"K80.20", "235919008", "Cholelithiasis"},
		{"E86.0", "34095006", "Dehydration"}, {"D64.9", "271737000", "Anemia"},
		{"N18.30", "433144002", "Chronic kidney disease stage 3"}, {"I10", "59621000", "Essential hypertension"},
		{"E11.9", "44054006", "Diabetes mellitus type 2"},
	},
}

// DiagnosisCodes answers the ICD-10-CM codes the generator draws from, as
// written in the Bundles (with the dot), each once, in no particular
// order: what a service must know to code the visits straight through.
func DiagnosisCodes() []string {
	var out []string
	seen := map[string]bool{}
	for _, dxs := range diagnoses {
		for _, d := range dxs {
			if !seen[d.ICD] {
				seen[d.ICD] = true
				out = append(out, d.ICD)
			}
		}
	}
	return out
}

// procedureCodes lists the procedure codes of a kind of visit: the E/M service
// every outpatient visit bills (one of EM), CPT extras, HCPCS extras (used
// only on dates the bundled HCPCS quarter covers) and, for inpatient stays,
// ICD-10-PCS codes.
type procedureCodes struct {
	EM, CPT, HCPCS, PCS []string
}

var procedures = map[string]procedureCodes{
	telehealth: {EM: []string{"99212", "99213", "99214", "99215"},
		CPT: []string{"96127", "99406", "96160", "99401"}, HCPCS: []string{"G2211", "G0444"}},
	office: {EM: []string{"99202", "99203", "99204", "99211", "99212", "99213", "99214", "99215"},
		CPT:   []string{"36415", "81002", "93000", "90471", "90686", "96372", "85025", "80053", "83036", "71046", "20610", "87880", "94640"},
		HCPCS: []string{"G2211", "G0444", "J1100", "J3420", "J3301", "G0008"}},
	ed: {EM: []string{"99281", "99282", "99283", "99284", "99285"},
		CPT:   []string{"93010", "71045", "70450", "74177", "12001", "96374", "96360", "36415", "85025", "80053", "81003", "84484"},
		HCPCS: []string{"J1885", "J2405", "J0696", "J7030", "J1200"}},
	inpatient: {PCS: []string{"0DTJ4ZZ", "0FT44ZZ", "5A1955Z", "5A1935Z", "5A1945Z", "30233N1", "0BH17EZ", "02703DZ",
		"0SRC0J9", "0SRB0J9", "02HV33Z", "3E0336Z", "4A023N7", "B2111ZZ", "0W9930Z", "BW28ZZZ", "5A1D70Z", "3E033GC"}},
}

// hcpcsFrom and hcpcsTo bound the dates of service on which the
// generator uses HCPCS codes: the October 2025 quarter of the bundled HCPCS
// file. Outside it a service with only the bundled code sets has no HCPCS
// release in force, which would (rightly) stop straight-through coding.
var (
	hcpcsFrom = time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	hcpcsTo   = time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
)

// codeTitles are the official titles of the curated ICD-10-CM, ICD-10-PCS
// and HCPCS codes, keyed by system URI and code as written in the Bundles.
type codeTitles map[string]string

func (t codeTitles) of(system, code string) string { return t[system+"|"+code] }

var (
	titlesOnce sync.Once
	titlesVal  codeTitles
	titlesErr  error
)

// codeTable reads the bundled code sets once and answers the titles of
// the curated codes, or an error naming any curated code that is missing,
// not billable, or (HCPCS) not in force throughout the bundled quarter.
func codeTable() (codeTitles, error) {
	titlesOnce.Do(func() { titlesVal, titlesErr = readTitles() })
	return titlesVal, titlesErr
}

func readTitles() (codeTitles, error) {
	want := map[codes.System]map[string]string{codes.ICD10CM: {}, codes.ICD10PCS: {}, codes.HCPCS: {}}
	for _, dxs := range diagnoses {
		for _, d := range dxs {
			want[codes.ICD10CM][codes.Normalize(codes.ICD10CM, d.ICD)] = fhir.SystemICD10CM + "|" + d.ICD
		}
	}
	for _, px := range procedures {
		for _, c := range px.PCS {
			want[codes.ICD10PCS][c] = fhir.SystemICD10PCS + "|" + c
		}
		for _, c := range px.HCPCS {
			want[codes.HCPCS][c] = fhir.SystemHCPCS + "|" + c
		}
	}
	titles := codeTitles{}
	for _, b := range codes.Bundled() {
		w := want[b.Release.System]
		if w == nil {
			continue
		}
		if err := readBundledTitles(b, w, titles); err != nil {
			return nil, err
		}
		for code := range w {
			if _, ok := titles[w[code]]; !ok {
				return nil, fmt.Errorf("bench: curated %s code %s is not a billable code in force in the bundled %s",
					b.Release.System, code, b.Name)
			}
		}
	}
	return titles, nil
}

// readBundledTitles streams one bundled file and records the titles of the
// codes in want that are usable: billable (ICD-10), in force throughout the
// bundled quarter (HCPCS).
func readBundledTitles(b codes.Bundle, want map[string]string, titles codeTitles) error {
	rc, err := b.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if b.Release.System == codes.HCPCS {
		return codes.ReadHCPCSCSV(rc, func(r codes.HCPCSRecord) error {
			key, ok := want[r.Code]
			inForce := !r.Added.After(hcpcsFrom) && (r.Terminated.IsZero() || !r.Terminated.Before(hcpcsTo))
			if ok && !r.Modifier && inForce {
				titles[key] = r.Short
			}
			return nil
		})
	}
	return codes.ReadOrder(io.Reader(rc), func(r codes.OrderRecord) error {
		if key, ok := want[r.Code]; ok && r.Billable {
			titles[key] = r.Long
		}
		return nil
	})
}
