package codes

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MAI is the NCCI MUE Adjudication Indicator.
type MAI int

// The MUE adjudication indicators CMS publishes: a line edit (units on one
// claim line), and date-of-service edits (units summed over the day) based
// on policy or on clinical data.
const (
	MAILine      MAI = 1
	MAIDOSPolicy MAI = 2
	MAIDOSClinic MAI = 3
)

// PerDay reports whether units are summed over all lines of a date of
// service (indicators 2 and 3) rather than checked per line.
func (m MAI) PerDay() bool { return m == MAIDOSPolicy || m == MAIDOSClinic }

// MUE is one Medically Unlikely Edit: the most units of Code a provider
// would report for one beneficiary per line or per date of service.
type MUE struct {
	Code      string
	MaxUnits  int
	Indicator MAI
	Rationale string
}

// ReadMUE reads the CMS practitioner MUE table in its published text
// layout (CSV or tab separated; columns "HCPCS/CPT Code", "Practitioner
// Services MUE Values", "MUE Adjudication Indicator" such as "3 Date of
// Service Edit: Clinical", and "MUE Rationale"). The copyright notice lines
// CMS places above the header are skipped. The outpatient hospital and DME
// supplier tables (same layout, "Outpatient Hospital Services MUE Values",
// "DME Supplier Services MUE Values") are refused: the edits apply the one
// loaded MUE table to professional claims only (mapping/edits ncci), so it
// must hold practitioner values.
func ReadMUE(r io.Reader, fn func(MUE) error) error {
	var code, units, mai, why = -1, -1, -1, -1
	rows := 0
	err := eachRow(newDelimited(r), func(line int, row []string) error {
		if code < 0 {
			h := headerColumns(row)
			code, units = h.find("HCPCS"), h.findContains("MUE VALUE")
			mai, why = h.find("MUE ADJUDICATION"), h.find("MUE RATIONALE")
			if units < 0 || mai < 0 {
				code = -1 // still in the notice lines
				return nil
			}
			if name := h.name(units); !strings.Contains(name, "PRACTITIONER") && (strings.Contains(name, "HOSPITAL") || strings.Contains(name, "DME")) {
				return fmt.Errorf("line %d: column %q: only the practitioner MUE table is supported "+
					"(its edits apply to professional claims; outpatient hospital and DME tables are not loaded)", line, name)
			}
			return nil
		}
		m, err := parseMUERow(field(row, code), field(row, units), field(row, mai))
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if m.Code == "" {
			return nil
		}
		m.Rationale = field(row, why)
		rows++
		return fn(m)
	})
	if err == nil && code < 0 {
		err = fmt.Errorf("no MUE header row (HCPCS/CPT Code, ... MUE Values, MUE Adjudication Indicator)")
	}
	if err == nil && rows == 0 {
		err = fmt.Errorf("no MUE rows after the header")
	}
	if err != nil {
		return fmt.Errorf("codes: MUE table: %w", err)
	}
	return nil
}

func parseMUERow(code, units, mai string) (MUE, error) {
	m := MUE{Code: Normalize(MUETable, code)}
	if m.Code == "" {
		return m, nil
	}
	n, err := strconv.Atoi(units)
	if err != nil || n < 0 {
		return m, fmt.Errorf("code %s: MUE value %q", m.Code, units)
	}
	if mai == "" || mai[0] < '1' || mai[0] > '3' {
		return m, fmt.Errorf("code %s: adjudication indicator %q", m.Code, mai)
	}
	m.MaxUnits, m.Indicator = n, MAI(mai[0]-'0')
	return m, nil
}

// muePartial is one value of the JSON extract in shared data
// (mue_practitioner_2026q2_dos_only.json): {"99213": {"maxUnits": 2,
// "adjudicationType": "date_of_service"}}.
type muePartial struct {
	MaxUnits         int    `json:"maxUnits"`
	AdjudicationType string `json:"adjudicationType"`
}

// MUEPartialMarker is the code under which a loaded MUE release records
// that it is a partial extract (the JSON format): a code it does not list
// has an MUE that was not checked, not "no MUE". It is never a procedure
// code, so no lookup of a real code can meet it.
const MUEPartialMarker = "*PARTIAL*"

// ReadMUEJSON reads the JSON MUE extract ({code: {maxUnits,
// adjudicationType}}) and calls fn for each code in code order. The
// extract is a derivative that kept only the indicator-3 rows of the CMS
// table, so "date_of_service" maps to MAIDOSClinic; "line" and
// "claim_line" map to MAILine; any other type is an error. Such an extract
// is partial by construction: loaders record MUEPartialMarker with it.
func ReadMUEJSON(r io.Reader, fn func(MUE) error) error {
	var m map[string]muePartial
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return fmt.Errorf("codes: MUE JSON: %w", err)
	}
	if len(m) == 0 {
		return fmt.Errorf("codes: MUE JSON: no codes")
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		var mai MAI
		switch v.AdjudicationType {
		case "date_of_service":
			mai = MAIDOSClinic
		case "line", "claim_line":
			mai = MAILine
		default:
			return fmt.Errorf("codes: MUE JSON: code %s: adjudicationType %q", k, v.AdjudicationType)
		}
		if v.MaxUnits < 0 {
			return fmt.Errorf("codes: MUE JSON: code %s: maxUnits %d", k, v.MaxUnits)
		}
		if err := fn(MUE{Code: Normalize(MUETable, k), MaxUnits: v.MaxUnits, Indicator: mai}); err != nil {
			return err
		}
	}
	return nil
}

// PTP is one NCCI procedure-to-procedure edit: Column2 is not paid with
// Column1 for the same beneficiary, provider and date of service unless a
// modifier indicator of 1 lets an NCCI-associated modifier bypass it.
type PTP struct {
	Column1, Column2 string
	// PriorTo1996 is the "* = in existence prior to 1996" column.
	PriorTo1996 bool
	Effective   time.Time
	// Deleted is the deletion date, zero when the column holds "*". The
	// edit no longer applies to services on or after it.
	Deleted time.Time
	// Modifier is the modifier indicator: 0 not allowed, 1 allowed, 9 not
	// applicable (a deleted edit).
	Modifier  int
	Rationale string
}

// Active reports whether the edit applies on the date of service dos.
func (p PTP) Active(dos time.Time) bool {
	d := Day(dos)
	return p.Modifier != 9 && !d.Before(p.Effective) && (p.Deleted.IsZero() || d.Before(p.Deleted))
}

// ReadPTP reads a CMS NCCI PTP table in its text layout (tab or comma
// separated columns: Column 1, Column 2, "* = in existence prior to 1996",
// Effective Date YYYYMMDD, Deletion Date or "*", Modifier 0/1/9, PTP Edit
// Rationale). Title, notice and header rows — any row whose first two
// fields are not both procedure codes — are skipped.
func ReadPTP(r io.Reader, fn func(PTP) error) error {
	rows := 0
	err := eachRow(newDelimited(r), func(line int, row []string) error {
		c1, c2 := Normalize(PTPTable, field(row, 0)), Normalize(PTPTable, field(row, 1))
		if !procedureCode(c1) || !procedureCode(c2) {
			return nil
		}
		p, err := parsePTPRow(c1, c2, row)
		if err != nil {
			return fmt.Errorf("line %d: %s/%s: %w", line, c1, c2, err)
		}
		rows++
		return fn(p)
	})
	if err == nil && rows == 0 {
		err = fmt.Errorf("no edit rows (Column 1 and Column 2 procedure codes)")
	}
	if err != nil {
		return fmt.Errorf("codes: PTP table: %w", err)
	}
	return nil
}

func parsePTPRow(c1, c2 string, row []string) (PTP, error) {
	p := PTP{Column1: c1, Column2: c2, PriorTo1996: field(row, 2) == "*", Rationale: field(row, 6)}
	var err error
	if p.Effective, err = parseYMD(field(row, 3)); err != nil {
		return p, err
	}
	if p.Deleted, err = parseYMD(field(row, 4)); err != nil {
		return p, err
	}
	switch mod := field(row, 5); mod {
	case "0", "1", "9":
		p.Modifier = int(mod[0] - '0')
	default:
		return p, fmt.Errorf("modifier indicator %q", mod)
	}
	return p, nil
}

// procedureCode reports whether s looks like a CPT or HCPCS Level II code.
func procedureCode(s string) bool {
	_, cpt := CPTFormat(s)
	return cpt || HCPCSFormat(s)
}

// findContains returns the index of the first column whose name contains
// sub, or -1.
func (c columns) findContains(sub string) int {
	best := -1
	for name, i := range c {
		if strings.Contains(name, sub) && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}
