package webui

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// draft is the code pane as the user left it, incomplete rows included.
// It is saved on the server at every change, so nothing typed is lost to
// a refresh, a log-off or a crash.
type draft struct {
	// Version is the item version the draft matches: it is used only while
	// the item is still at that version.
	Version    int         `json:"version"`
	Diagnoses  []draftDx   `json:"diagnoses"`
	Lines      []draftLine `json:"lines"`
	Procedures []draftProc `json:"procedures"`
}

type draftDx struct {
	Code    string `json:"code"`
	POA     string `json:"poa,omitempty"`
	Display string `json:"display,omitempty"`
}

type draftLine struct {
	Code      string `json:"code"`
	Modifiers string `json:"modifiers,omitempty"`
	Units     string `json:"units,omitempty"`
	Pointers  string `json:"pointers,omitempty"`
	Display   string `json:"display,omitempty"`
	// Date and POS are the line's service date and place of service, as
	// the EHR's charge or the stored assignment gave them (not edited in
	// the pane, but kept).
	Date string `json:"date,omitempty"`
	POS  string `json:"pos,omitempty"`
}

type draftProc struct {
	Code    string `json:"code"`
	Date    string `json:"date,omitempty"`
	Display string `json:"display,omitempty"`
}

// Pane size limits: more rows than a claim can carry are not kept.
const (
	maxDiagnoses  = 25
	maxLines      = 50
	maxProcedures = 25
)

// parseDraft reads the code pane form: one value per row for each field,
// in row order.
func parseDraft(r *http.Request) draft {
	f := r.PostForm
	at := func(name string, i int) string {
		if vs := f[name]; i < len(vs) {
			return strings.TrimSpace(vs[i])
		}
		return ""
	}
	var d draft
	d.Version, _ = strconv.Atoi(f.Get("version"))
	for i := range min(len(f["dx_code"]), maxDiagnoses) {
		code := strings.ToUpper(at("dx_code", i))
		d.Diagnoses = append(d.Diagnoses, draftDx{Code: code, POA: strings.ToUpper(at("dx_poa", i)), Display: displayFor(code, at("dx_display", i))})
	}
	for i := range min(len(f["ln_code"]), maxLines) {
		code := strings.ToUpper(at("ln_code", i))
		d.Lines = append(d.Lines, draftLine{Code: code, Modifiers: strings.ToUpper(at("ln_mods", i)),
			Units: at("ln_units", i), Pointers: strings.ToUpper(at("ln_ptrs", i)), Display: displayFor(code, at("ln_display", i)),
			Date: at("ln_date", i), POS: at("ln_pos", i)})
	}
	for i := range min(len(f["px_code"]), maxProcedures) {
		code := strings.ToUpper(at("px_code", i))
		d.Procedures = append(d.Procedures, draftProc{Code: code, Date: at("px_date", i), Display: displayFor(code, at("px_display", i))})
	}
	return d
}

// displayFor reads a row's hidden "CODE|title" field: the title is kept
// only while the row still holds that code (else it is looked up again).
func displayFor(code, field string) string {
	c, title, ok := strings.Cut(field, "|")
	if !ok || c != code {
		return ""
	}
	return title
}

// draftOf turns a stored assignment into a draft.
func draftOf(a workitem.Assignment, version int) draft {
	d := draft{Version: version}
	for _, x := range a.Diagnoses {
		d.Diagnoses = append(d.Diagnoses, draftDx{Code: x.Code, POA: x.POA})
	}
	for _, l := range a.Lines {
		ptrs := make([]string, len(l.Diagnoses))
		for i, p := range l.Diagnoses {
			ptrs[i] = strconv.Itoa(p)
		}
		units := ""
		if l.Units != 0 {
			units = strconv.Itoa(l.Units)
		}
		d.Lines = append(d.Lines, draftLine{Code: l.Code, Modifiers: strings.Join(l.Modifiers, ", "), Units: units, Pointers: strings.Join(ptrs, ", "),
			Date: l.ServiceDate, POS: l.PlaceOfService})
	}
	for _, p := range a.Procedures {
		d.Procedures = append(d.Procedures, draftProc{Code: p.Code, Date: p.Date})
	}
	return d
}

// assignment turns the draft into the assignment to save: rows without a
// code are left out, and so is every row with a field that cannot be read
// (they stay in the draft as typed); the field errors name the row.
// Pointers count the diagnosis rows as the pane shows them, and are
// renumbered past rows without a code.
func (d draft) assignment() (workitem.Assignment, []string) {
	a := workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{}, Lines: []workitem.AssignedLine{}}
	var errs []string
	dxAt := make(map[int]int, len(d.Diagnoses)) // pane row (1-based) -> assigned diagnosis (1-based)
	for i, x := range d.Diagnoses {
		if x.Code != "" {
			a.Diagnoses = append(a.Diagnoses, workitem.AssignedDiagnosis{Code: x.Code, POA: x.POA})
			dxAt[i+1] = len(a.Diagnoses)
		}
	}
	for i, l := range d.Lines {
		if l.Code == "" {
			continue
		}
		line, lerrs := l.line(i, dxAt, len(d.Diagnoses))
		if errs = append(errs, lerrs...); len(lerrs) == 0 {
			a.Lines = append(a.Lines, line)
		}
	}
	for i, p := range d.Procedures {
		if p.Code == "" {
			continue
		}
		if p.Date != "" {
			if _, err := time.Parse(time.DateOnly, p.Date); err != nil {
				errs = append(errs, "Procedure "+itoa(i+1)+" ("+p.Code+"): enter the date as YYYY-MM-DD.")
				continue
			}
		}
		a.Procedures = append(a.Procedures, workitem.AssignedProcedure{Code: p.Code, Date: p.Date})
	}
	return a, errs
}

// line reads service line i (units default to 1). dxAt maps the pane's
// diagnosis rows to the assigned diagnoses; rows is how many the pane has
// (a pointer past them is kept, for the edits to report).
func (l draftLine) line(i int, dxAt map[int]int, rows int) (workitem.AssignedLine, []string) {
	var errs []string
	name := "Line " + itoa(i+1) + " (" + l.Code + ")"
	line := workitem.AssignedLine{Code: l.Code, Modifiers: splitList(l.Modifiers), Units: 1, Diagnoses: []int{},
		ServiceDate: l.Date, PlaceOfService: l.POS}
	if l.Units != "" {
		n, err := strconv.Atoi(l.Units)
		if err != nil || n < 1 || n > 9999 {
			errs = append(errs, name+": units must be a whole number from 1 to 9999.")
		}
		line.Units = n
	}
	for _, p := range splitList(l.Pointers) {
		n, ok := pointerNumber(p)
		switch {
		case !ok:
			errs = append(errs, name+": diagnosis pointer “"+p+"” is not a diagnosis number (1–12) or letter (A–L).")
		case n > rows:
			line.Diagnoses = append(line.Diagnoses, n-rows+len(dxAt))
		case dxAt[n] == 0:
			errs = append(errs, name+": diagnosis pointer “"+p+"” names a diagnosis row without a code.")
		default:
			line.Diagnoses = append(line.Diagnoses, dxAt[n])
		}
	}
	return line, errs
}

// splitList splits "95, 25" or "1 2" into its parts (nil when none).
func splitList(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	if len(parts) == 0 {
		return nil
	}
	return parts
}

// pointerNumber reads a diagnosis pointer: 1–12 or A–L.
func pointerNumber(p string) (int, bool) {
	if n, err := strconv.Atoi(p); err == nil {
		return n, n >= 1 && n <= 12
	}
	if len(p) == 1 && p[0] >= 'A' && p[0] <= 'L' {
		return int(p[0]-'A') + 1, true
	}
	return 0, false
}

// outcome is what a pane action did: where the focus goes next and what
// to announce.
type outcome struct {
	Focus  string
	Status string
}

// addCode adds a code found by search (or suggested) in the section its
// system belongs to.
func (d *draft) addCode(system, code, display, dos string) (outcome, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return outcome{}, workitem.Errorf(workitem.Invalid, "choose a code to add")
	}
	switch system {
	case "icd10cm":
		if slices.ContainsFunc(d.Diagnoses, func(x draftDx) bool { return x.Code == code }) {
			return outcome{Focus: "code-q", Status: code + " is already a diagnosis."}, nil
		}
		if len(d.Diagnoses) >= maxDiagnoses {
			return outcome{}, workitem.Errorf(workitem.Invalid, "a claim carries at most %d diagnoses", maxDiagnoses)
		}
		d.Diagnoses = append(d.Diagnoses, draftDx{Code: code, Display: display})
		return outcome{Focus: "code-q", Status: "Added " + code + " as diagnosis " + itoa(len(d.Diagnoses)) + "."}, nil
	case "cpt", "hcpcs":
		if len(d.Lines) >= maxLines {
			return outcome{}, workitem.Errorf(workitem.Invalid, "at most %d service lines", maxLines)
		}
		ptrs := make([]string, 0, 4)
		for i := range min(4, len(d.Diagnoses)) {
			ptrs = append(ptrs, itoa(i+1))
		}
		d.Lines = append(d.Lines, draftLine{Code: code, Units: "1", Pointers: strings.Join(ptrs, ", "), Display: display})
		return outcome{Focus: "code-q", Status: "Added " + code + " as service line " + itoa(len(d.Lines)) + "."}, nil
	case "icd10pcs":
		if len(d.Procedures) >= maxProcedures {
			return outcome{}, workitem.Errorf(workitem.Invalid, "at most %d procedures", maxProcedures)
		}
		d.Procedures = append(d.Procedures, draftProc{Code: code, Date: dos, Display: display})
		return outcome{Focus: "code-q", Status: "Added " + code + " as procedure " + itoa(len(d.Procedures)) + "."}, nil
	}
	return outcome{}, workitem.Errorf(workitem.Invalid, "unknown code system %q", system)
}

// move applies "up", "down" or "remove" to row i of section ("dx", "ln",
// "px"). Moving or removing a diagnosis renumbers the line pointers, so
// they keep naming the same diagnoses.
func (d *draft) move(verb, section string, i int) (outcome, error) {
	n := map[string]int{"dx": len(d.Diagnoses), "ln": len(d.Lines), "px": len(d.Procedures)}[section]
	j := map[string]int{"up": i - 1, "down": i + 1, "remove": i}[verb]
	if i < 0 || i >= n || j < 0 || j >= n {
		return outcome{}, workitem.Errorf(workitem.Invalid, "that row cannot be moved further")
	}
	code := d.code(section, i)
	if verb == "remove" {
		d.removeRow(section, i)
		focus := "code-q"
		if n > 1 {
			focus = section + "-" + itoa(min(i, n-2)) + "-code"
		}
		return outcome{Focus: focus, Status: "Removed " + code + "."}, nil
	}
	d.swapRows(section, i, j)
	focus := section + "-" + itoa(j) + "-" + verb
	if (verb == "up" && j == 0) || (verb == "down" && j == n-1) {
		focus = section + "-" + itoa(j) + "-code"
	}
	status := code + " moved to position " + itoa(j+1) + "."
	if section == "dx" && j == 0 {
		status = code + " is now the principal (first-listed) diagnosis."
	}
	return outcome{Focus: focus, Status: status}, nil
}

func (d *draft) code(section string, i int) string {
	switch section {
	case "dx":
		return d.Diagnoses[i].Code
	case "ln":
		return d.Lines[i].Code
	}
	return d.Procedures[i].Code
}

func (d *draft) removeRow(section string, i int) {
	switch section {
	case "dx":
		d.Diagnoses = slices.Delete(d.Diagnoses, i, i+1)
		d.renumber(func(p int) int {
			switch {
			case p == i+1:
				return 0
			case p > i+1:
				return p - 1
			}
			return p
		})
	case "ln":
		d.Lines = slices.Delete(d.Lines, i, i+1)
	case "px":
		d.Procedures = slices.Delete(d.Procedures, i, i+1)
	}
}

func (d *draft) swapRows(section string, i, j int) {
	switch section {
	case "dx":
		d.Diagnoses[i], d.Diagnoses[j] = d.Diagnoses[j], d.Diagnoses[i]
		d.renumber(func(p int) int {
			switch p {
			case i + 1:
				return j + 1
			case j + 1:
				return i + 1
			}
			return p
		})
	case "ln":
		d.Lines[i], d.Lines[j] = d.Lines[j], d.Lines[i]
	case "px":
		d.Procedures[i], d.Procedures[j] = d.Procedures[j], d.Procedures[i]
	}
}

// renumber maps every line's diagnosis pointers through f (0 drops one).
func (d *draft) renumber(f func(int) int) {
	for k, l := range d.Lines {
		var out []string
		for _, p := range splitList(l.Pointers) {
			n, ok := pointerNumber(p)
			if !ok {
				out = append(out, p)
				continue
			}
			if m := f(n); m > 0 {
				out = append(out, itoa(m))
			}
		}
		d.Lines[k].Pointers = strings.Join(out, ", ")
	}
}

// addSuggested adds a code the EHR sent, as the auto-coder would
// (mapping.AutoAssignment): a service line keeps the charge's modifiers,
// units and service date, and its diagnosis pointers, which name the
// suggested diagnoses (dx, in their order), are renumbered to where those
// diagnoses are in the pane; without any, it points at the first four
// diagnoses. A procedure keeps its date, else takes the date of service.
func (d *draft) addSuggested(sc workitem.SuggestedCode, dx []string, dos string) (outcome, error) {
	if sc.System == "icd10pcs" && sc.ServiceDate != "" {
		dos = sc.ServiceDate
	}
	out, err := d.addCode(sc.System, sc.Code, "", dos)
	if err != nil || (sc.System != "cpt" && sc.System != "hcpcs") {
		return out, err
	}
	l := &d.Lines[len(d.Lines)-1]
	l.Units, l.Date = itoa(max(1, sc.Units)), sc.ServiceDate
	l.Modifiers = strings.Join(sc.Modifiers, ", ")
	var ptrs []string
	for _, p := range sc.Diagnoses {
		if p < 1 || p > len(dx) {
			continue
		}
		if i := slices.IndexFunc(d.Diagnoses, func(x draftDx) bool { return x.Code == dx[p-1] }); i >= 0 {
			ptrs = append(ptrs, itoa(i+1))
		}
	}
	if len(ptrs) > 0 {
		l.Pointers = strings.Join(ptrs, ", ")
	}
	return out, nil
}

// suggestion finds the code the EHR suggested of a system.
func suggestion(c *workitem.Chart, system, code string) (workitem.SuggestedCode, bool) {
	if c != nil {
		for _, sc := range c.SuggestedCodes {
			if sc.System == system && strings.EqualFold(sc.Code, code) {
				return sc, true
			}
		}
	}
	return workitem.SuggestedCode{}, false
}

// suggestedDiagnoses are the suggested diagnosis codes in chart order: what
// a suggested line's pointers count.
func suggestedDiagnoses(c *workitem.Chart) []string {
	var out []string
	if c != nil {
		for _, sc := range c.SuggestedCodes {
			if sc.Kind == "diagnosis" {
				out = append(out, strings.ToUpper(sc.Code))
			}
		}
	}
	return out
}

// sameRows reports whether two drafts hold the same rows as typed (titles
// and versions aside).
func (d draft) sameRows(o draft) bool {
	norm := func(d draft) draft {
		n := draft{Diagnoses: slices.Clone(d.Diagnoses), Lines: slices.Clone(d.Lines), Procedures: slices.Clone(d.Procedures)}
		for i := range n.Diagnoses {
			n.Diagnoses[i].Display = ""
		}
		for i := range n.Lines {
			n.Lines[i].Display = ""
		}
		for i := range n.Procedures {
			n.Procedures[i].Display = ""
		}
		return n
	}
	a, b := norm(d), norm(o)
	return slices.Equal(a.Diagnoses, b.Diagnoses) && slices.Equal(a.Lines, b.Lines) && slices.Equal(a.Procedures, b.Procedures)
}
