package mapping

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Source is one stored resource feeding a chart: its identity, whether it
// was deleted (entered-in-error), and the summary Prepare derived from it.
type Source struct {
	Type    string
	ID      string
	Version int
	Deleted bool
	Summary json.RawMessage
}

// Derived is what BuildChart derives for a work item.
type Derived struct {
	Chart        *workitem.Chart
	Status       workitem.Status // Pending, Ready or Cancelled: the status the documentation calls for
	Priority     int
	Class        string
	PatientID    string
	ServiceStart *time.Time
	ServiceEnd   *time.Time
}

// ErrNoEncounter is returned by BuildChart when the Encounter itself has not
// arrived yet: its Conditions and Procedures wait, stored, until it does.
var ErrNoEncounter = fmt.Errorf("mapping: encounter not received yet")

// BuildChart derives the chart, status and priority of one Encounter's work
// item from its stored resources (the Encounter, the Conditions, Procedures,
// ChargeItems and DocumentReferences that point to it, the Patient and the
// patient's Coverages). now dates the priority.
func BuildChart(sources []Source, now time.Time) (Derived, error) {
	var enc *fhir.Encounter
	var encSrc Source
	for _, s := range sources {
		if s.Type == "Encounter" {
			var e fhir.Encounter
			if err := json.Unmarshal(s.Summary, &e); err != nil {
				return Derived{}, fmt.Errorf("mapping.BuildChart: Encounter/%s summary: %w", s.ID, err)
			}
			enc, encSrc = &e, s
		}
	}
	if enc == nil {
		return Derived{}, ErrNoEncounter
	}
	c := &workitem.Chart{Encounter: encounterView(encSrc.ID, enc), Sources: map[string]int{}}
	d := Derived{Chart: c, Class: enc.Class.Code, PatientID: refID(enc.Subject, "Patient")}
	if !enc.Period.Start.IsZero() {
		t := enc.Period.Start.UTC()
		d.ServiceStart = &t
	}
	if !enc.Period.End.IsZero() {
		t := enc.Period.End.UTC()
		d.ServiceEnd = &t
	}
	ranks := diagnosisRanks(enc)
	for _, s := range sources {
		c.Sources[s.Type+"/"+s.ID] = s.Version
		if err := addSource(c, s, ranks); err != nil {
			return Derived{}, err
		}
	}
	sortChart(c)
	c.SuggestedCodes = suggest(c)
	d.Status = statusFor(enc.Status, encSrc.Deleted)
	d.Priority = Priority(d.Class, d.ServiceStart, d.ServiceEnd, now)
	return d, nil
}

func encounterView(id string, e *fhir.Encounter) workitem.EncounterView {
	v := workitem.EncounterView{Reference: "Encounter/" + id, Status: e.Status, Class: e.Class.Code,
		ServiceProvider: e.ServiceProvider, Location: e.Locations,
		StartAsSent: asSent(e.StartAsSent, &e.Period.Start), EndAsSent: asSent(e.EndAsSent, &e.Period.End)}
	for _, t := range e.Types {
		v.Type = append(v.Type, codings(t)...)
	}
	if !e.Period.Start.IsZero() {
		t := e.Period.Start.UTC()
		v.Start = &t
	}
	if !e.Period.End.IsZero() {
		t := e.Period.End.UTC()
		v.End = &t
	}
	for _, d := range e.Diagnoses {
		v.Diagnoses = append(v.Diagnoses, workitem.EncounterDiagnosis{Condition: d.Condition, Rank: d.Rank, Use: d.Use.Code("")})
	}
	return v
}

type rankUse struct {
	rank int
	use  string
}

func diagnosisRanks(e *fhir.Encounter) map[string]rankUse {
	m := map[string]rankUse{}
	for _, d := range e.Diagnoses {
		m[d.Condition] = rankUse{rank: d.Rank, use: d.Use.Code("")}
	}
	return m
}

// addSource adds one resource's contribution to the chart.
func addSource(c *workitem.Chart, s Source, ranks map[string]rankUse) error {
	if s.Deleted || s.Type == "Encounter" {
		return nil
	}
	ref := s.Type + "/" + s.ID
	switch s.Type {
	case "Condition":
		var x fhir.Condition
		if err := json.Unmarshal(s.Summary, &x); err != nil {
			return fmt.Errorf("mapping.BuildChart: %s summary: %w", ref, err)
		}
		// Refuted and entered-in-error Conditions stay on the chart as
		// context (with their verificationStatus); they are never
		// suggested or coded (workitem.NeverCoded).
		item := workitem.DocumentedItem{Reference: ref, Status: x.ClinicalStatus, VerificationStatus: x.VerificationStatus,
			Codings: codings(x.Code), Text: x.Code.Text, Rank: ranks[ref].rank, Use: ranks[ref].use}
		for _, cat := range x.Categories {
			item.Category = append(item.Category, cat.Code(""))
		}
		if !x.Onset.IsZero() {
			item.Date = x.Onset.UTC().Format(time.RFC3339)
		}
		c.Conditions = append(c.Conditions, item)
	case "Procedure":
		return addProcedure(c, s, ref)
	case "ChargeItem":
		return addCharge(c, s, ref)
	case "DocumentReference":
		return addDocument(c, s, ref)
	case "Patient":
		return addPatient(c, s, ref)
	case "Coverage":
		return addCoverage(c, s, ref)
	}
	return nil
}

func addProcedure(c *workitem.Chart, s Source, ref string) error {
	var x fhir.Procedure
	if err := json.Unmarshal(s.Summary, &x); err != nil {
		return fmt.Errorf("mapping.BuildChart: %s summary: %w", ref, err)
	}
	if x.Status == "entered-in-error" || x.Status == "not-done" {
		return nil
	}
	item := workitem.DocumentedItem{Reference: ref, Status: x.Status, Codings: codings(x.Code), Text: x.Code.Text}
	if !x.Performed.Start.IsZero() {
		item.Date = x.Performed.Start.UTC().Format(time.RFC3339)
	}
	c.Procedures = append(c.Procedures, item)
	return nil
}

func addDocument(c *workitem.Chart, s Source, ref string) error {
	var x fhir.DocumentReference
	if err := json.Unmarshal(s.Summary, &x); err != nil {
		return fmt.Errorf("mapping.BuildChart: %s summary: %w", ref, err)
	}
	if x.Status == "entered-in-error" {
		return nil
	}
	doc := workitem.Document{Reference: ref, Type: firstDisplay(x.Type)}
	if !x.Date.IsZero() {
		doc.Date = x.Date.UTC().Format(time.RFC3339)
	}
	var texts []string
	for _, a := range x.Attachments {
		if doc.ContentType == "" {
			doc.ContentType = a.ContentType
		}
		if a.Text != "" {
			texts = append(texts, a.Text)
		}
		if a.URL != "" && doc.URL == "" {
			doc.URL = a.URL
		}
	}
	doc.Text = strings.Join(texts, "\n\n")
	c.Documents = append(c.Documents, doc)
	return nil
}

func addPatient(c *workitem.Chart, s Source, ref string) error {
	var x fhir.Patient
	if err := json.Unmarshal(s.Summary, &x); err != nil {
		return fmt.Errorf("mapping.BuildChart: %s summary: %w", ref, err)
	}
	c.PatientSummary = &workitem.PatientView{Reference: ref, Name: displayName(x.Names), Gender: x.Gender, BirthDate: x.BirthDate}
	return nil
}

func addCoverage(c *workitem.Chart, s Source, ref string) error {
	var x fhir.Coverage
	if err := json.Unmarshal(s.Summary, &x); err != nil {
		return fmt.Errorf("mapping.BuildChart: %s summary: %w", ref, err)
	}
	if x.Status != "active" {
		return nil
	}
	cv := workitem.CoverageView{Reference: ref, Status: x.Status, Order: x.Order}
	if len(x.Payors) > 0 {
		cv.Payor = x.Payors[0]
	}
	c.Coverage = append(c.Coverage, cv)
	return nil
}

func displayName(names []fhir.HumanName) string {
	for _, n := range names {
		if n.Text != "" {
			return n.Text
		}
		if parts := append(append([]string{}, n.Given...), n.Family); strings.TrimSpace(strings.Join(parts, " ")) != "" {
			return strings.TrimSpace(strings.Join(parts, " "))
		}
	}
	return ""
}

func codings(c fhir.Concept) []workitem.Coding {
	out := make([]workitem.Coding, 0, len(c.Codings))
	for _, cd := range c.Codings {
		out = append(out, workitem.Coding{System: fhir.CanonicalSystem(cd.System), Code: cd.Code, Display: cd.Display})
	}
	return out
}

func firstDisplay(c fhir.Concept) string {
	for _, cd := range c.Codings {
		if cd.Display != "" {
			return cd.Display
		}
	}
	return c.Text
}

// sortChart orders conditions by Encounter.diagnosis rank (ranked first),
// then encounter diagnoses before problem-list items, then reference;
// procedures and charges by date then reference; documents by date.
func sortChart(c *workitem.Chart) {
	sort.SliceStable(c.Conditions, func(i, j int) bool {
		a, b := c.Conditions[i], c.Conditions[j]
		if ra, rb := rankKey(a.Rank), rankKey(b.Rank); ra != rb {
			return ra < rb
		}
		if ea, eb := isEncounterDx(a), isEncounterDx(b); ea != eb {
			return ea
		}
		return a.Reference < b.Reference
	})
	sort.SliceStable(c.Procedures, func(i, j int) bool {
		if c.Procedures[i].Date != c.Procedures[j].Date {
			return c.Procedures[i].Date < c.Procedures[j].Date
		}
		return c.Procedures[i].Reference < c.Procedures[j].Reference
	})
	sort.SliceStable(c.Charges, func(i, j int) bool {
		if c.Charges[i].Date != c.Charges[j].Date {
			return c.Charges[i].Date < c.Charges[j].Date
		}
		return c.Charges[i].Reference < c.Charges[j].Reference
	})
	sort.SliceStable(c.Documents, func(i, j int) bool { return c.Documents[i].Date < c.Documents[j].Date })
	sort.SliceStable(c.Coverage, func(i, j int) bool { return c.Coverage[i].Order < c.Coverage[j].Order })
}

func rankKey(r int) int {
	if r <= 0 {
		return 1 << 30
	}
	return r
}

func isEncounterDx(d workitem.DocumentedItem) bool {
	for _, c := range d.Category {
		if c == "encounter-diagnosis" {
			return true
		}
	}
	return false
}

// suggest proposes the codes the EHR already sent: ICD-10-CM codings of
// Conditions (in chart order, so the first is the suggested principal), and
// CPT, HCPCS and ICD-10-PCS codings of Procedures, then the CPT/HCPCS lines
// of ChargeItems (see chargeLines). A Procedure whose code a charge line
// also bills takes that line's place (and its units, modifiers, pointers),
// so one service is never suggested twice. SNOMED and other codings stay
// visible on the documented items for the coder.
func suggest(c *workitem.Chart) []workitem.SuggestedCode {
	out := suggestDiagnoses(c.Conditions)
	seen := map[string]bool{}
	lines := chargeLines(c.Charges, out)
	firstLine := map[string]int{} // system|code -> first charge line billing it
	for i := len(lines) - 1; i >= 0; i-- {
		firstLine[lines[i].System+"|"+lines[i].Code] = i
	}
	used := make([]bool, len(lines))
	for _, p := range c.Procedures {
		for _, cd := range p.Codings {
			sys, ok := procedureSystem(cd.System)
			if !ok {
				continue
			}
			code := codes.Display(sys, cd.Code)
			key := string(sys) + "|" + code
			if seen[key] {
				continue
			}
			seen[key] = true
			if i, ok := firstLine[key]; ok {
				out, used[i] = append(out, lines[i]), true
				continue
			}
			out = append(out, workitem.SuggestedCode{System: string(sys), Code: code, Display: cd.Display, Source: p.Reference, Kind: "procedure"})
		}
	}
	for i, l := range lines {
		if !used[i] {
			out = append(out, l)
		}
	}
	return out
}

// suggestDiagnoses lists the ICD-10-CM codings of the conditions, once
// each, in chart order, leaving out refuted and entered-in-error ones.
func suggestDiagnoses(conds []workitem.DocumentedItem) []workitem.SuggestedCode {
	var out []workitem.SuggestedCode
	seen := map[string]bool{}
	for _, d := range conds {
		if workitem.NeverCoded(d) {
			continue
		}
		for _, cd := range d.Codings {
			code := codes.Display(codes.ICD10CM, cd.Code)
			if cd.System == fhir.SystemICD10CM && !seen[code] {
				seen[code] = true
				out = append(out, workitem.SuggestedCode{System: string(codes.ICD10CM), Code: code, Display: cd.Display, Source: d.Reference, Kind: "diagnosis"})
			}
		}
	}
	return out
}

// statusFor maps the Encounter's status to the work item status it calls
// for: not finished yet → pending; finished → ready; cancelled,
// entered-in-error or deleted → cancelled.
func statusFor(encStatus string, deleted bool) workitem.Status {
	switch {
	case deleted || encStatus == "cancelled" || encStatus == "entered-in-error":
		return workitem.Cancelled
	case encStatus == "finished":
		return workitem.Ready
	}
	return workitem.Pending
}

// Priority ranks a work item in the queue, higher first. The rule: inpatient
// stays (IMP, ACUTE, NONAC) start at 300, emergency and observation (EMER,
// OBSENC) at 200, everything else (AMB, VR telehealth, HH...) at 100; each
// day since discharge (or since the visit, without a discharge) adds 10, up
// to 300, because unbilled days (DNFB) cost the most. Ties go to the oldest
// item.
func Priority(class string, start, end *time.Time, now time.Time) int {
	p := 100
	switch {
	case workitem.Inpatient(class):
		p = 300
	case class == "EMER" || class == "OBSENC":
		p = 200
	}
	ref := end
	if ref == nil {
		ref = start
	}
	if ref != nil && now.After(*ref) {
		days := int(now.Sub(*ref).Hours() / 24)
		p += min(days*10, 300)
	}
	return p
}
