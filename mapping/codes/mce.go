package codes

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The Medicare Code Editor (MCE) is the CMS editor run on inpatient claims
// with the MS-DRG grouper. CMS publishes its diagnosis lists as
// "Definitions of Medicare Code Edits vNN" (a PDF and a text file in a zip
// on the MS-DRG Classifications and Software page): version NN is the
// fiscal year NN-17 (v43 is FY2026), and vNN.1 is the April update of the
// same year. codebridge reads the lists that classify a diagnosis by
// itself (ReadMCE): the age-conflict lists (edit 4), manifestation codes
// not allowed as principal diagnosis (edit 6), questionable admission
// (edit 8) and unacceptable principal diagnosis (edit 9). The sex-conflict
// edit (5) was deactivated by CMS as of 10/01/2024 and its lists are no
// longer published; procedure edits are not read.

// MCEList names one Medicare Code Editor diagnosis list.
type MCEList string

// The MCE lists codebridge reads. The age lists carry an age range
// (MCEListing.MinAge, MaxAge).
const (
	// MCEPerinatal: edit 4.A, perinatal/newborn diagnoses, age 0 only.
	MCEPerinatal MCEList = "perinatal"
	// MCEPediatric: edit 4.B, pediatric diagnoses, age 0 through 17.
	MCEPediatric MCEList = "pediatric"
	// MCEMaternity: edit 4.C, maternity diagnoses, age 9 through 64.
	MCEMaternity MCEList = "maternity"
	// MCEAdult: edit 4.D, adult diagnoses, age 15 through 124.
	MCEAdult MCEList = "adult"
	// MCEManifestation: edit 6, manifestation codes not allowed as
	// principal diagnosis.
	MCEManifestation MCEList = "manifestation"
	// MCEQuestionableAdmission: edit 8, questionable admission codes.
	MCEQuestionableAdmission MCEList = "questionable_admission"
	// MCEUnacceptablePrincipal: edit 9, unacceptable principal diagnosis
	// codes.
	MCEUnacceptablePrincipal MCEList = "unacceptable_principal"
	// MCEUnacceptableAlone: edit 9, the codes CMS considers "acceptable"
	// as principal diagnosis only when a secondary diagnosis is coded
	// (Z51.89 in v43.1).
	MCEUnacceptableAlone MCEList = "unacceptable_principal_alone"
)

// mceLists are the lists in the order edits report them.
var mceLists = []MCEList{MCEPerinatal, MCEPediatric, MCEMaternity, MCEAdult, MCEManifestation,
	MCEQuestionableAdmission, MCEUnacceptablePrincipal, MCEUnacceptableAlone}

// IsAge reports whether l is one of the age-conflict lists.
func (l MCEList) IsAge() bool {
	return l == MCEPerinatal || l == MCEPediatric || l == MCEMaternity || l == MCEAdult
}

// ParseMCEList returns the list named s (as stored), or an error.
func ParseMCEList(s string) (MCEList, error) {
	if l := MCEList(s); slices.Contains(mceLists, l) {
		return l, nil
	}
	return "", fmt.Errorf("codes: unknown MCE list %q", s)
}

// MCERecord is one code on one MCE list.
type MCERecord struct {
	List MCEList
	// Code is the ICD-10-CM code in storage form (no dot).
	Code string
	// Title is the CMS short title as the MCE file gives it.
	Title string
	// MinAge and MaxAge are the list's age range in years, inclusive,
	// on the age lists; both 0 on the others.
	MinAge, MaxAge int
}

// MCEListing is a code's membership of one MCE list, as a Lookup answers
// it.
type MCEListing struct {
	List           MCEList
	Title          string
	MinAge, MaxAge int
}

// MCEFacts is what the MCE release applied on a date says about one
// ICD-10-CM code.
type MCEFacts struct {
	// Release is the MCE release applied.
	Release Release
	// Outside is true when no loaded MCE release covers the date: Release
	// is then the nearest one, applied outside its window (PickMCE), and
	// Note says so.
	Outside bool
	Note    string
	// Lists are the lists the code is on, in a fixed order; empty when it
	// is on none.
	Lists []MCEListing
}

// On returns the code's listing on l, if it is on it.
func (f MCEFacts) On(l MCEList) (MCEListing, bool) {
	for _, x := range f.Lists {
		if x.List == l {
			return x, true
		}
	}
	return MCEListing{}, false
}

// SortMCEListings puts listings in the fixed order of the MCE lists.
func SortMCEListings(ls []MCEListing) {
	slices.SortFunc(ls, func(a, b MCEListing) int {
		return slices.Index(mceLists, a.List) - slices.Index(mceLists, b.List)
	})
}

// PickMCE chooses the MCE release applied on dos among rels (any order)
// and returns its index, or -1 when rels is empty. The release covering
// dos is applied; of two covering ones (vNN and its April update vNN.1)
// the later-starting one. With none covering dos, the lists change little
// from one release to the next and a code not valid on the date is an
// error of its own, so the nearest release is applied and note says so:
// the newest release that ended before dos ("MCE v43.1 (valid to
// 2026-09-30) applied: no later MCE release is loaded"), else, for a date
// before every loaded release, the oldest one.
func PickMCE(rels []Release, dos time.Time) (i int, note string) {
	d := Day(dos)
	best := -1
	for j, r := range rels {
		if r.Covers(d) && (best < 0 || r.From.After(rels[best].From)) {
			best = j
		}
	}
	if best >= 0 {
		return best, ""
	}
	later := false
	for j, r := range rels {
		switch {
		case r.To.Before(d):
			if best < 0 || r.To.After(rels[best].To) || r.To.Equal(rels[best].To) && r.From.After(rels[best].From) {
				best = j
			}
		default:
			later = true
		}
	}
	if best >= 0 {
		r := rels[best]
		if later {
			return best, fmt.Sprintf("MCE %s (valid to %s) applied: no MCE release covering %s is loaded",
				r.Version, r.To.Format(time.DateOnly), d.Format(time.DateOnly))
		}
		return best, fmt.Sprintf("MCE %s (valid to %s) applied: no later MCE release is loaded", r.Version, r.To.Format(time.DateOnly))
	}
	for j, r := range rels {
		if best < 0 || r.From.Before(rels[best].From) {
			best = j
		}
	}
	if best < 0 {
		return -1, ""
	}
	r := rels[best]
	return best, fmt.Sprintf("MCE %s (valid from %s) applied: no earlier MCE release is loaded", r.Version, r.From.Format(time.DateOnly))
}

// mceVersion parses an MCE version label: "43", "v43", "43.0" (the
// October release of FY2026) or "43.1", "V43.1" (its April update). It
// returns the major version and whether it is the April update.
func mceVersion(v string) (major int, april bool, err error) {
	s := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(v)), "V")
	minor := "0"
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s, minor = s[:i], s[i+1:]
	}
	major, err = strconv.Atoi(s)
	if err != nil || major < 33 || major > 99 || (minor != "0" && minor != "1") {
		return 0, false, fmt.Errorf("bad MCE version %q", v)
	}
	return major, minor == "1", nil
}

// mceWindow is the window of MCE version v: vNN governs discharges of the
// federal fiscal year NN-17 (v43: FY2026, 2025-10-01..2026-09-30), vNN.1
// its April update (2026-04-01..2026-09-30). CMS publishes one MCE with
// each MS-DRG grouper version (IPPS final rule, "Definitions of Medicare
// Code Edits", MS-DRG Classifications and Software page); v33 (FY2016)
// was the first ICD-10 MCE.
func mceWindow(v string) (from, to time.Time, label string, err error) {
	major, april, err := mceVersion(v)
	if err != nil {
		return from, to, "", err
	}
	fy := 2000 + major - 17
	from, to, label = date(fy-1, 10, 1), date(fy, 9, 30), fmt.Sprintf("v%d", major)
	if april {
		from, label = date(fy, 4, 1), label+".1"
	}
	return from, to, label, nil
}

// ReadMCE reads the MCE diagnosis lists in either of two formats, told
// apart by content, and calls fn for each code on each list (a code on two
// lists is two records). version is the release being loaded: a JSON file
// that names another MCE version is refused.
//
//   - JSON (first non-blank byte "{"): the extraction of the CMS text in
//     shared/data/codesets/mce-v43.1 (SOURCES.upstream.md §7): "mce_version",
//     "age_ranges" {list: "age 0 through 17 ..."}, "age_conflict_lists"
//     {perinatal|pediatric|maternity|adult: {code: title}},
//     "manifestation_not_pdx", "questionable_admission_pdx",
//     "unacceptable_pdx" ({code: title}) and "principal_dx_special_rules"
//     {code: {"note"}}, whose notes requiring a secondary diagnosis put the
//     code on MCEUnacceptableAlone.
//   - The CMS text file "Definitions of Medicare Code Edits_v_NN.txt"
//     (ReadMCEText).
//
// A file in which a list the format names has no age range, or with no
// code at all, is an error; fn sees nothing of a file that fails.
func ReadMCE(r io.Reader, version string, fn func(MCERecord) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	var recs []MCERecord
	var err error
	if bytes.HasPrefix(bytes.TrimSpace(head), []byte("{")) {
		recs, err = readMCEJSON(br, version)
	} else {
		recs, err = readMCEText(br, version)
	}
	if err != nil {
		return fmt.Errorf("codes: MCE file: %w", err)
	}
	if len(recs) == 0 {
		return fmt.Errorf("codes: MCE file: %w of mce found: no MCE code list", ErrNoRecords)
	}
	for _, rec := range recs {
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

type mceJSON struct {
	Version       string                       `json:"mce_version"`
	AgeRanges     map[string]string            `json:"age_ranges"`
	AgeLists      map[string]map[string]string `json:"age_conflict_lists"`
	Manifestation map[string]string            `json:"manifestation_not_pdx"`
	Questionable  map[string]string            `json:"questionable_admission_pdx"`
	Unacceptable  map[string]string            `json:"unacceptable_pdx"`
	Special       map[string]struct {
		Note string `json:"note"`
	} `json:"principal_dx_special_rules"`
}

var mceAgeRangeRE = regexp.MustCompile(`(?i)age\s+(\d{1,3})(?:\s*(?:through|to|-|\x{2013})\s*(\d{1,3}))?`)

// mceParseAgeRange reads "age 0 through 17", "age 9-64" or "age 0 years only".
func mceParseAgeRange(s string) (lo, hi int, ok bool) {
	m := mceAgeRangeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, false
	}
	lo, _ = strconv.Atoi(m[1])
	hi = lo
	if m[2] != "" {
		hi, _ = strconv.Atoi(m[2])
	}
	return lo, hi, lo <= hi && hi <= 124
}

func readMCEJSON(r io.Reader, version string) ([]MCERecord, error) {
	var f mceJSON
	dec := json.NewDecoder(r)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("JSON: data after the top-level object")
	}
	if f.Version != "" && version != "" {
		_, _, got, err1 := mceWindow(f.Version)
		_, _, want, err2 := mceWindow(version)
		if err1 != nil || err2 != nil || got != want {
			return nil, fmt.Errorf("the file is MCE version %q, not %q", f.Version, version)
		}
	}
	var out []MCERecord
	add := func(l MCEList, m map[string]string, lo, hi int) error {
		for _, code := range slices.Sorted(maps.Keys(m)) {
			c := Normalize(ICD10CM, code)
			if !ICD10CMFormat(c) {
				return fmt.Errorf("%s list: %q is not an ICD-10-CM code", l, code)
			}
			out = append(out, MCERecord{List: l, Code: c, Title: strings.TrimSpace(m[code]), MinAge: lo, MaxAge: hi})
		}
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(f.AgeLists)) {
		l, err := ParseMCEList(name)
		if err != nil || !l.IsAge() {
			return nil, fmt.Errorf("age_conflict_lists: unknown age list %q (want perinatal, pediatric, maternity or adult)", name)
		}
		lo, hi, ok := mceParseAgeRange(f.AgeRanges[name])
		if !ok {
			return nil, fmt.Errorf("age_ranges: no age range for the %s list (%q)", name, f.AgeRanges[name])
		}
		if err := add(l, f.AgeLists[name], lo, hi); err != nil {
			return nil, err
		}
	}
	for _, x := range []struct {
		l MCEList
		m map[string]string
	}{{MCEManifestation, f.Manifestation}, {MCEQuestionableAdmission, f.Questionable}, {MCEUnacceptablePrincipal, f.Unacceptable}} {
		if err := add(x.l, x.m, 0, 0); err != nil {
			return nil, err
		}
	}
	alone := map[string]string{}
	for code, s := range f.Special {
		if !strings.Contains(strings.ToLower(s.Note), "secondary") {
			return nil, fmt.Errorf("principal_dx_special_rules: %s: a rule other than \"acceptable only with a secondary diagnosis\" (%q)", code, s.Note)
		}
		alone[code] = ""
	}
	if err := add(MCEUnacceptableAlone, alone, 0, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// ReadMCEText reads the text file of the CMS "Definitions of Medicare Code
// Edits" (Windows-1252, CRLF) and calls fn for each code on each list it
// reads. The layout, as CMS publishes it: a table of contents whose lines
// end in a tab and a page number, then chapter 1 with one numbered
// section per edit ("4. Age conflict", "6. Manifestation code as
// principal diagnosis", "8. Questionable admission", "9. Unacceptable
// principal diagnosis", ...), lettered subsections ("A. Perinatal/Newborn
// diagnoses", "B. Pediatric diagnoses (age 0 through 17)", ...), prose,
// and code lists of one code (no dot) a line, a tab, and the short title.
// In section 9 the codes CMS considers "acceptable" when a secondary
// diagnosis is coded are listed in the prose before the main list
// ("Unacceptable principal diagnosis codes") and go on
// MCEUnacceptableAlone. A later chapter (the code list changes) ends the
// lists. Lines of procedure codes (ICD-10-PCS) are skipped.
func ReadMCEText(r io.Reader, fn func(MCERecord) error) error {
	recs, err := readMCEText(r, "")
	if err != nil {
		return fmt.Errorf("codes: MCE file: %w", err)
	}
	for _, rec := range recs {
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

var (
	mceSectionRE    = regexp.MustCompile(`^(\d{1,2})\.\s+(\S.*)$`)
	mceSubsectionRE = regexp.MustCompile(`^([A-Z])\.\s+(\S.*)$`)
	mceChapterRE    = regexp.MustCompile(`^chapter\s+(\d+)`)
	// mceHeadingRE is the version line of the CMS text file's title page:
	// "ICD-10 MCE Version 43.1".
	mceHeadingRE = regexp.MustCompile(`(?i)\bMCE\s+version\s+(v?\d+(?:\.\d+)?)\b`)
)

// readMCEText reads the CMS text layout (ReadMCEText). version, if not
// empty, is the release being loaded: a file whose title page names
// another MCE version ("ICD-10 MCE Version 43.1" loaded as 44) is
// refused, as a JSON file naming another version is.
func readMCEText(r io.Reader, version string) ([]MCERecord, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var (
		out     []MCERecord
		section MCEList // "" outside a list section; for age, the current age list
		age     bool    // inside section 4
		carve   bool    // section 9: inside the "acceptable with a secondary diagnosis" prose
		carved  bool    // a code was read in the carve-out
		lo, hi  int
		seen    = map[[2]string]bool{}
		line    int
	)
	for sc.Scan() {
		line++
		text := mceCP1252(strings.TrimRight(sc.Text(), "\r"))
		trimmed := strings.TrimSpace(text)
		if trimmed == "" {
			continue
		}
		if code, title, ok := mceCodeLine(text); ok {
			l := section
			if l == MCEUnacceptablePrincipal && carve {
				l, carved = MCEUnacceptableAlone, true
			}
			if l == "" || !ICD10CMFormat(code) {
				continue
			}
			if l.IsAge() && hi < 0 {
				return nil, fmt.Errorf("line %d: no age range in the heading of the %s list (want \"(age 0 through 17)\")", line, l)
			}
			if k := [2]string{string(l), code}; !seen[k] {
				seen[k] = true
				out = append(out, MCERecord{List: l, Code: code, Title: title, MinAge: lo, MaxAge: hi})
			}
			continue
		}
		// A heading of the table of contents ends in a tab and its page
		// number; it sets the state as the body's heading does again.
		trimmed, _, _ = strings.Cut(trimmed, "\t")
		trimmed = strings.TrimSpace(trimmed)
		lower := strings.ToLower(trimmed)
		if m := mceHeadingRE.FindStringSubmatch(trimmed); m != nil && len(out) == 0 && section == "" && !age && version != "" {
			_, _, got, err1 := mceWindow(m[1])
			_, _, want, err2 := mceWindow(version)
			if err1 != nil || err2 != nil || got != want {
				return nil, fmt.Errorf("line %d: the file is MCE version %q (%q), not %q", line, m[1], trimmed, version)
			}
		}
		if m := mceChapterRE.FindStringSubmatch(lower); len(out) > 0 && (m != nil && m[1] != "1" || strings.Contains(lower, "code list changes")) {
			break // the edit code lists end where the next chapter begins
		}
		if m := mceSectionRE.FindStringSubmatch(trimmed); m != nil {
			head := strings.ToLower(m[2])
			section, age, carve, lo, hi = "", false, false, 0, 0
			switch {
			case strings.HasPrefix(head, "age conflict"):
				age = true
			case strings.HasPrefix(head, "manifestation code as principal diagnosis"):
				section = MCEManifestation
			case strings.HasPrefix(head, "questionable admission"):
				section = MCEQuestionableAdmission
			case strings.HasPrefix(head, "unacceptable principal diagnosis"):
				section = MCEUnacceptablePrincipal
			}
			continue
		}
		if m := mceSubsectionRE.FindStringSubmatch(trimmed); m != nil {
			head := strings.ToLower(m[2])
			switch {
			case age:
				l, dlo, dhi := MCEList(""), 0, 0
				switch {
				case strings.HasPrefix(head, "perinatal"), strings.HasPrefix(head, "newborn"):
					l = MCEPerinatal // "Age 0 years only" (the section's definition)
				case strings.HasPrefix(head, "pediatric"):
					l, dhi = MCEPediatric, -1
				case strings.HasPrefix(head, "maternity"):
					l, dhi = MCEMaternity, -1
				case strings.HasPrefix(head, "adult"):
					l, dhi = MCEAdult, -1
				}
				if l == "" {
					return nil, fmt.Errorf("line %d: unknown age-conflict list %q", line, trimmed)
				}
				if a, b, ok := mceParseAgeRange(head); ok {
					dlo, dhi = a, b
				}
				section, lo, hi = l, dlo, dhi // hi -1: no range stated, an error if codes follow
			case strings.Contains(head, "procedure") || strings.Contains(head, "icd-10-pcs"):
				section = "" // a procedure list of a diagnosis edit
			}
			continue
		}
		switch {
		case section == MCEQuestionableAdmission && strings.HasPrefix(lower, "questionable obstetric"):
			section = ""
		case section == MCEUnacceptablePrincipal && strings.HasPrefix(lower, "unacceptable principal diagnosis codes"):
			carve = false
		case section == MCEUnacceptablePrincipal && strings.Contains(lower, "when a secondary diagnosis"):
			carve, carved = true, false
		case section == MCEUnacceptablePrincipal && carve && carved:
			carve = false // the prose after the carve-out list
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return out, nil
}

// mceCodeLine splits "A33<TAB>Tetanus neonatorum" (the code may carry a
// dot) into its code (storage form) and title.
func mceCodeLine(s string) (code, title string, ok bool) {
	left, right, found := strings.Cut(s, "\t")
	if !found {
		return "", "", false
	}
	code = Normalize(ICD10CM, left)
	title = strings.TrimSpace(right)
	if len(code) < 3 || len(code) > 7 || title == "" || strings.ContainsAny(code, " \t") {
		return "", "", false
	}
	for i := 0; i < len(code); i++ {
		if !alnum(code[i]) {
			return "", "", false
		}
	}
	if _, err := strconv.Atoi(title); err == nil {
		return "", "", false // a table-of-contents page number
	}
	return code, title, true
}

// mceCP1252 returns s as UTF-8: CMS text files are Windows-1252, whose
// punctuation (0x91-0x97) becomes its Unicode character and every other
// byte its Latin-1 character. Valid UTF-8 is kept as it is.
func mceCP1252(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	punct := map[byte]rune{0x91: '‘', 0x92: '’', 0x93: '“', 0x94: '”', 0x95: '•', 0x96: '–', 0x97: '—'}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if r, ok := punct[c]; ok {
			b.WriteRune(r)
		} else {
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}

// addMCE adds one MCE record to an MCE release table.
func (t *table) addMCE(sc *ShapeCheck, m MCERecord) error {
	sc.Add(MCE, m.Code, false)
	ls := t.mce[m.Code]
	if slices.ContainsFunc(ls, func(x MCEListing) bool { return x.List == m.List }) {
		return nil
	}
	ls = append(ls, MCEListing{List: m.List, Title: m.Title, MinAge: m.MinAge, MaxAge: m.MaxAge})
	SortMCEListings(ls)
	t.mce[m.Code] = ls
	return nil
}

// MCE implements Lookup: the lists of the MCE release applied on dos
// (PickMCE) that the ICD-10-CM code is on. It returns ErrNoRelease only
// when no MCE release is loaded at all.
func (c *Catalog) MCE(ctx context.Context, code string, dos time.Time) (MCEFacts, error) {
	c.mu.RLock()
	ts := c.releases[MCE]
	rels := make([]Release, len(ts))
	for i, t := range ts {
		rels[i] = t.rel
	}
	c.mu.RUnlock()
	i, note := PickMCE(rels, dos)
	if i < 0 {
		return MCEFacts{}, fmt.Errorf("mce %s: %w", dos.Format(time.DateOnly), ErrNoRelease)
	}
	ls := ts[i].mce[Normalize(ICD10CM, code)]
	return MCEFacts{Release: rels[i], Outside: note != "", Note: note, Lists: slices.Clone(ls)}, nil
}
