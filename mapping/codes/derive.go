package codes

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ErrAddendaRefused is wrapped by every error of ReadOrderAddenda and
// DeriveOrder that refuses an addenda file: a missing or inconsistent
// footer, counts that do not match it, a base of another fiscal year, a
// change that does not fit the base.
var ErrAddendaRefused = errors.New("codes: addenda refused")

// AddendaCounts are the counts the footer of an ICD-10-CM order-file
// addenda states for one kind of record: headers (flag 0) or codes valid
// for HIPAA transactions (flag 1).
type AddendaCounts struct {
	// Base and Target are the numbers of records of the kind in the order
	// files of the base and target fiscal years.
	Base, Target int
	// Additions, Deletions and Revisions count the addenda records of the
	// kind; a revision is one "Revise from"/"Revise to" pair.
	Additions, Deletions, Revisions int
	// BothTitles, LongOnly and ShortOnly split Revisions by the titles
	// they change.
	BothTitles, LongOnly, ShortOnly int
}

// OrderAddenda is an ICD-10-CM order-file addenda (icd10cm_order_addenda_
// YYYY.txt) as read by ReadOrderAddenda: its changes in file order and the
// summary of its footer.
type OrderAddenda struct {
	Changes []Change
	// BaseYear and TargetYear are the fiscal years of the order files the
	// footer names ("... in icd10cm_order_2026.txt", "... in
	// icd10cm_order_2027.txt").
	BaseYear, TargetYear int
	Headers, Codes       AddendaCounts
}

var (
	footerFile  = regexp.MustCompile(`^(\d+) (headers|codes) in icd10cm_order_(\d{4})\.txt$`)
	footerCount = regexp.MustCompile(`^(\d+) (additions|deletions|revisions|revisions to both long and short titles|revisions to long title only|revisions to short title only)$`)
)

// ReadOrderAddenda reads an ICD-10-CM order-file addenda: the change
// records (ReadAddenda's layout) and the footer CMS ends it with, two
// sections "Headers" and "Codes", each stating the record counts of the
// base and target order files and the additions, deletions and revisions
// of the kind. It checks the file against itself: every record carries the
// header/billable flag, each "Revise from" is followed by the "Revise to"
// of the same code and flag, and the body's counts per kind equal the
// footer's. Any other line is refused.
func ReadOrderAddenda(r io.Reader) (*OrderAddenda, error) {
	a := &OrderAddenda{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n := 0
	var section *AddendaCounts
	seen := map[string]bool{} // footer lines, by section and label
	years := map[string]int{}
	for sc.Scan() {
		n++
		line := string(bytes.TrimRight(sc.Bytes(), "\r"))
		if action, ok := addendaAction(line); ok {
			if section != nil {
				return nil, fmt.Errorf("%w: line %d: a change record after the footer", ErrAddendaRefused, n)
			}
			ch, err := parseChange(action, line)
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: %w", ErrAddendaRefused, n, err)
			}
			if !ch.HasFlag {
				return nil, fmt.Errorf("%w: line %d: %s %s has no header/billable flag: not an ICD-10-CM order-file addenda (ICD-10-PCS addenda carry no flag)",
					ErrAddendaRefused, n, ch.Action, ch.Code)
			}
			a.Changes = append(a.Changes, ch)
			continue
		}
		t := strings.Join(strings.Fields(line), " ")
		switch {
		case t == "" || t == "of which":
		case t == "Headers":
			section = &a.Headers
			seen["Headers"] = true
		case t == "Codes":
			section = &a.Codes
			seen["Codes"] = true
		case section == nil:
			return nil, fmt.Errorf("%w: line %d: %q is neither a change record nor the footer", ErrAddendaRefused, n, line)
		default:
			name := "Codes"
			if section == &a.Headers {
				name = "Headers"
			}
			if m := footerFile.FindStringSubmatch(t); m != nil {
				if (m[2] == "headers") != (section == &a.Headers) {
					return nil, fmt.Errorf("%w: line %d: %q in the %s section", ErrAddendaRefused, n, t, name)
				}
				v, _ := strconv.Atoi(m[1])
				y, _ := strconv.Atoi(m[3])
				key := name + " base"
				if seen[key] {
					key = name + " target"
				}
				if seen[key] {
					return nil, fmt.Errorf("%w: line %d: a third order file in the %s section", ErrAddendaRefused, n, name)
				}
				seen[key] = true
				years[key] = y
				if strings.HasSuffix(key, "base") {
					section.Base = v
				} else {
					section.Target = v
				}
				continue
			}
			m := footerCount.FindStringSubmatch(t)
			if m == nil {
				return nil, fmt.Errorf("%w: line %d: %q is not a line of the addenda footer", ErrAddendaRefused, n, line)
			}
			key := name + " " + m[2]
			if seen[key] {
				return nil, fmt.Errorf("%w: line %d: %q stated twice in the %s section", ErrAddendaRefused, n, m[2], name)
			}
			seen[key] = true
			v, _ := strconv.Atoi(m[1])
			*map[string]*int{
				"additions": &section.Additions, "deletions": &section.Deletions, "revisions": &section.Revisions,
				"revisions to both long and short titles": &section.BothTitles,
				"revisions to long title only":            &section.LongOnly,
				"revisions to short title only":           &section.ShortOnly,
			}[m[2]] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("codes: addenda line %d: %w", n+1, err)
	}
	var missing []string
	for _, s := range []string{"Headers", "Codes"} {
		for _, k := range []string{"base", "target", "additions", "deletions", "revisions"} {
			if !seen[s+" "+k] {
				missing = append(missing, s+" "+k)
			}
		}
	}
	if len(a.Changes) == 0 && len(missing) == 10 {
		return nil, fmt.Errorf("%w: no change records and no footer: not an ICD-10-CM order-file addenda", ErrAddendaRefused)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: the footer is missing or incomplete (no %s); CMS ends the addenda with the Headers and Codes counts, a file without them cannot be checked",
			ErrAddendaRefused, strings.Join(missing, ", "))
	}
	if years["Headers base"] != years["Codes base"] || years["Headers target"] != years["Codes target"] {
		return nil, fmt.Errorf("%w: the footer names order files of different years (headers %d->%d, codes %d->%d)",
			ErrAddendaRefused, years["Headers base"], years["Headers target"], years["Codes base"], years["Codes target"])
	}
	a.BaseYear, a.TargetYear = years["Codes base"], years["Codes target"]
	if a.TargetYear != a.BaseYear+1 {
		return nil, fmt.Errorf("%w: the footer goes from icd10cm_order_%d.txt to icd10cm_order_%d.txt; an addenda updates one fiscal year to the next",
			ErrAddendaRefused, a.BaseYear, a.TargetYear)
	}
	got, err := a.bodyCounts()
	if err != nil {
		return nil, err
	}
	for _, k := range []struct {
		name       string
		want, have AddendaCounts
	}{{"Headers", a.Headers, got[0]}, {"Codes", a.Codes, got[1]}} {
		w, h := k.want, k.have
		w.Base, w.Target = 0, 0
		if !seen[k.name+" revisions to both long and short titles"] { // the split is optional
			w.BothTitles, w.LongOnly, w.ShortOnly = h.BothTitles, h.LongOnly, h.ShortOnly
		}
		if w != h {
			return nil, fmt.Errorf("%w: the body does not match the footer's %s counts: the body has %d additions, %d deletions, %d revisions (%d both titles, %d long only, %d short only); the footer states %d, %d, %d (%d, %d, %d)",
				ErrAddendaRefused, k.name, h.Additions, h.Deletions, h.Revisions, h.BothTitles, h.LongOnly, h.ShortOnly,
				w.Additions, w.Deletions, w.Revisions, w.BothTitles, w.LongOnly, w.ShortOnly)
		}
		if k.want.Target != k.want.Base+h.Additions-h.Deletions {
			return nil, fmt.Errorf("%w: the footer's %s counts do not add up: %d + %d additions - %d deletions is not %d",
				ErrAddendaRefused, k.name, k.want.Base, h.Additions, h.Deletions, k.want.Target)
		}
	}
	return a, nil
}

// bodyCounts counts the change records by kind (headers, codes) and checks
// that revisions come in from/to pairs.
func (a *OrderAddenda) bodyCounts() ([2]AddendaCounts, error) {
	var out [2]AddendaCounts
	kind := func(c Change) *AddendaCounts {
		if c.Billable {
			return &out[1]
		}
		return &out[0]
	}
	for i := 0; i < len(a.Changes); i++ {
		c := a.Changes[i]
		switch c.Action {
		case Add:
			kind(c).Additions++
		case Delete:
			kind(c).Deletions++
		case ReviseTo:
			return out, fmt.Errorf("%w: Revise to: %s without its Revise from", ErrAddendaRefused, c.Code)
		case ReviseFrom:
			if i+1 == len(a.Changes) || a.Changes[i+1].Action != ReviseTo || a.Changes[i+1].Code != c.Code || a.Changes[i+1].Billable != c.Billable {
				return out, fmt.Errorf("%w: Revise from: %s is not followed by its Revise to (same code and flag)", ErrAddendaRefused, c.Code)
			}
			to := a.Changes[i+1]
			i++
			k := kind(c)
			k.Revisions++
			switch short, long := to.Short != c.Short, to.Long != c.Long; {
			case short && long:
				k.BothTitles++
			case long:
				k.LongOnly++
			case short:
				k.ShortOnly++
			default:
				return out, fmt.Errorf("%w: the revision of %s changes no title", ErrAddendaRefused, c.Code)
			}
		}
	}
	return out, nil
}

// CheckTarget refuses (ErrAddendaRefused) a target release other than the
// one the addenda's footer updates to.
func (a *OrderAddenda) CheckTarget(target Release) error {
	if y := fiscalYear(target); target.System != ICD10CM || a.TargetYear != y {
		return fmt.Errorf("%w: the addenda updates ICD-10-CM to FY%d (its footer names icd10cm_order_%d.txt), not %s %s",
			ErrAddendaRefused, a.TargetYear, a.TargetYear, target.System, target.Version)
	}
	return nil
}

// fiscalYear returns the federal fiscal year of a fiscal-year release (the
// year its window ends in).
func fiscalYear(r Release) int { return r.To.Year() }

// DeriveOrder applies the ICD-10-CM order-file addenda a to base, the order
// records of release baseRel in tabular order, and returns the order
// records of release target, renumbered 1..N in tabular order.
//
// This is how the annual ICD-10-CM update is published: CMS's addenda list
// the codes added, deleted and retitled from one fiscal year's order file
// to the next (a code whose header/billable flag changes is deleted and
// added again with the new flag), and end with the counts of headers and
// codes in both order files (icd10cm_order_addenda_YYYY.txt, in the "Code
// Descriptions in Tabular Order" zip; layout icd10OrderFiles.pdf). The
// update takes effect on October 1 (ICD-10-CM Official Guidelines for
// Coding and Reporting, and Medicare Claims Processing Manual, Pub. 100-04,
// ch. 23, sec. 10.2).
//
// It refuses (ErrAddendaRefused) when: baseRel or target is not ICD-10-CM;
// the footer's base year is not baseRel's fiscal year or its target year
// not target's; base does not have the footer's base counts of headers and
// codes; a Delete or Revise from names a code absent from base or with
// other titles or flag; an Add names a code present in base (and not
// deleted by the addenda) or added twice; a code has other conflicting
// changes; or the result does not have the footer's target counts.
//
// A code added without an existing record of the same code is placed in
// tabular order: after the subtree of its nearest preceding sibling (the
// greatest smaller code among the direct children of its parent, the
// longest code in the file that is a proper prefix of it; categories are
// the children of the root), or right after its parent when it has no
// smaller sibling. Byte order is not tabular order (the letter
// subcategory C4A sits between C43 and C44), so the result is never
// sorted. Added codes are placed in code order, so a new header is placed
// before its new children. A code deleted and added again keeps its place.
// The order numbers of a derived file may therefore differ from CMS's own
// file where CMS placed a new code elsewhere; codes, flags and titles do
// not.
func DeriveOrder(a *OrderAddenda, baseRel Release, base []OrderRecord, target Release) ([]OrderRecord, error) {
	if baseRel.System != ICD10CM || target.System != ICD10CM {
		return nil, fmt.Errorf("%w: only ICD-10-CM releases are derived from an order-file addenda (%s %s -> %s %s)",
			ErrAddendaRefused, baseRel.System, baseRel.Version, target.System, target.Version)
	}
	if err := a.CheckTarget(target); err != nil {
		return nil, err
	}
	if y := fiscalYear(baseRel); a.BaseYear != y {
		return nil, fmt.Errorf("%w: wrong base year: the addenda applies to FY%d (its footer names icd10cm_order_%d.txt), the base release is %s",
			ErrAddendaRefused, a.BaseYear, a.BaseYear, baseRel.Version)
	}
	headers, billable := countFlags(base)
	if headers != a.Headers.Base || billable != a.Codes.Base {
		return nil, fmt.Errorf("%w: wrong base: %s %s has %d headers and %d codes, the addenda's footer states %d headers and %d codes in icd10cm_order_%d.txt",
			ErrAddendaRefused, baseRel.System, baseRel.Version, headers, billable, a.Headers.Base, a.Codes.Base, a.BaseYear)
	}

	recs := slices.Clone(base)
	index := make(map[string]int, len(recs))
	for i, r := range recs {
		if _, dup := index[r.Code]; dup {
			return nil, fmt.Errorf("%w: the base %s has code %s twice", ErrAddendaRefused, baseRel.Version, Display(ICD10CM, r.Code))
		}
		index[r.Code] = i
	}
	same := func(r OrderRecord, c Change) bool {
		return r.Billable == c.Billable && r.Short == c.Short && r.Long == c.Long
	}
	deleted := map[string]bool{}
	added := map[string]Change{}
	revised := map[string]bool{}
	var adds []Change
	// Deletions and revisions first, so that the Add of a code deleted by
	// the same addenda is accepted wherever it is listed.
	for i := 0; i < len(a.Changes); i++ {
		c := a.Changes[i]
		if c.Action == Add {
			adds = append(adds, c)
			continue
		}
		d := Display(ICD10CM, c.Code)
		at, inBase := index[c.Code]
		if c.Action != Delete && c.Action != ReviseFrom {
			return nil, fmt.Errorf("%w: %s %s: unexpected record", ErrAddendaRefused, label(c.Action), d)
		}
		switch {
		case !inBase:
			return nil, fmt.Errorf("%w: %s %s: not in the base %s", ErrAddendaRefused, label(c.Action), d, baseRel.Version)
		case deleted[c.Code] || revised[c.Code]:
			return nil, fmt.Errorf("%w: %s %s: the code has another change in this addenda", ErrAddendaRefused, label(c.Action), d)
		case !same(recs[at], c):
			return nil, fmt.Errorf("%w: %s %s: the base %s has it as %s, the addenda as %s",
				ErrAddendaRefused, label(c.Action), d, baseRel.Version, describe(recs[at].Billable, recs[at].Short, recs[at].Long),
				describe(c.Billable, c.Short, c.Long))
		}
		if c.Action == Delete {
			deleted[c.Code] = true
			continue
		}
		to := a.Changes[i+1] // paired by ReadOrderAddenda
		i++
		revised[c.Code] = true
		recs[at].Short, recs[at].Long = to.Short, to.Long
	}
	for _, c := range adds {
		d := Display(ICD10CM, c.Code)
		at, inBase := index[c.Code]
		_, twice := added[c.Code]
		switch {
		case twice:
			return nil, fmt.Errorf("%w: Add: %s is added twice", ErrAddendaRefused, d)
		case revised[c.Code]:
			return nil, fmt.Errorf("%w: Add: %s: the code has another change in this addenda", ErrAddendaRefused, d)
		case inBase && !deleted[c.Code]:
			return nil, fmt.Errorf("%w: Add: %s is already in the base %s (as %s) and not deleted by the addenda",
				ErrAddendaRefused, d, baseRel.Version, describe(recs[at].Billable, recs[at].Short, recs[at].Long))
		case inBase && same(recs[at], c):
			return nil, fmt.Errorf("%w: Add: %s is deleted and added again unchanged", ErrAddendaRefused, d)
		case len(c.Code) > 7 || len(c.Short) > 60:
			return nil, fmt.Errorf("%w: Add: %s does not fit the order-file layout (code of at most 7, short title of at most 60 characters)", ErrAddendaRefused, d)
		}
		added[c.Code] = c
	}

	// A code deleted and added again (a header/billable change) keeps its
	// place; other deletions go.
	out := recs[:0]
	for _, r := range recs {
		if deleted[r.Code] {
			c, again := added[r.Code]
			if !again {
				continue
			}
			delete(added, r.Code)
			r = OrderRecord{Code: c.Code, Billable: c.Billable, Short: c.Short, Long: c.Long}
		}
		out = append(out, r)
	}
	recs = out
	present := make(map[string]bool, len(recs)+len(added))
	for _, r := range recs {
		present[r.Code] = true
	}
	newCodes := make([]string, 0, len(added))
	for code := range added {
		newCodes = append(newCodes, code)
	}
	slices.Sort(newCodes)
	for _, code := range newCodes {
		c := added[code]
		at := insertionPoint(recs, present, code)
		recs = slices.Insert(recs, at, OrderRecord{Code: c.Code, Billable: c.Billable, Short: c.Short, Long: c.Long})
		present[code] = true
	}
	for i := range recs {
		recs[i].Order = i + 1
	}
	headers, billable = countFlags(recs)
	if headers != a.Headers.Target || billable != a.Codes.Target {
		return nil, fmt.Errorf("%w: the result has %d headers and %d codes, the addenda's footer states %d headers and %d codes in icd10cm_order_%d.txt",
			ErrAddendaRefused, headers, billable, a.Headers.Target, a.Codes.Target, a.TargetYear)
	}
	return recs, nil
}

// insertionPoint returns the index at which the new code goes in recs
// (see DeriveOrder).
func insertionPoint(recs []OrderRecord, present map[string]bool, code string) int {
	parent := ""
	for n := len(code) - 1; n > 0; n-- {
		if present[code[:n]] {
			parent = code[:n]
			break
		}
	}
	// The parent's subtree: the records after it that start with it (the
	// whole file for the root).
	start, end := 0, len(recs)
	if parent != "" {
		start = slices.IndexFunc(recs, func(r OrderRecord) bool { return r.Code == parent }) + 1
		end = start
		for end < len(recs) && strings.HasPrefix(recs[end].Code, parent) {
			end++
		}
	}
	// Walk the direct children of the parent; keep the end of the subtree
	// of the greatest child smaller than code.
	at, best := start, ""
	for i := start; i < end; {
		child := recs[i].Code
		j := i + 1
		for j < end && strings.HasPrefix(recs[j].Code, child) {
			j++
		}
		if child < code && child > best {
			at, best = j, child
		}
		i = j
	}
	return at
}

func countFlags(recs []OrderRecord) (headers, billable int) {
	for _, r := range recs {
		if r.Billable {
			billable++
		} else {
			headers++
		}
	}
	return headers, billable
}

func label(a Action) string {
	return map[Action]string{Add: "Add", Delete: "Delete", ReviseFrom: "Revise from", ReviseTo: "Revise to"}[a]
}

func describe(billable bool, short, long string) string {
	kind := "header"
	if billable {
		kind = "billable code"
	}
	return fmt.Sprintf("%s %q / %q", kind, short, long)
}

// WriteOrder writes recs in the layout of the CMS order file
// (icd10OrderFiles.pdf): order number (5, zero-padded), blank, code (7,
// left-justified), blank, flag (1 billable, 0 header), blank, short title
// (60, padded), blank, long title; lines end with CRLF as in the official
// files. ReadOrder reads it back.
func WriteOrder(w io.Writer, recs []OrderRecord) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, r := range recs {
		if r.Order < 0 || r.Order > 99999 || len(r.Code) > 7 || len(r.Short) > 60 {
			return fmt.Errorf("codes: order record %d %s does not fit the order-file layout", r.Order, r.Code)
		}
		flag := '0'
		if r.Billable {
			flag = '1'
		}
		if _, err := fmt.Fprintf(bw, "%05d %-7s %c %-60s %s\r\n", r.Order, r.Code, flag, r.Short, r.Long); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadOrderRecords reads a whole order file (ReadOrder) into memory.
func ReadOrderRecords(r io.Reader) ([]OrderRecord, error) {
	var out []OrderRecord
	err := ReadOrder(r, func(o OrderRecord) error { out = append(out, o); return nil })
	return out, err
}
