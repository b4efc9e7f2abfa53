package codes

import (
	"fmt"
	"slices"
	"time"
)

// History is what the loaded releases of one system say about one code:
// every loaded release of the system and, among them, those that contain
// the code. It answers what no single release can: whether a code was
// added after, or deleted before, a date of service, even a date no loaded
// release governs.
type History struct {
	// Releases are every loaded release of the system, newest window
	// first.
	Releases []Release
	// Entries are the code's entries, one per loaded release containing
	// it (Entry.Release set), newest window first.
	Entries []Entry
}

// State is a code's standing on a date of service according to a History.
type State int

// The states. Unknown means the loaded releases cannot tell, so the
// caller's own rules (a missing release, the release in force) decide.
const (
	Unknown State = iota
	// NotYetValid: the code was added after the date of service.
	NotYetValid
	// Deleted: the code was deleted (or terminated) on or before the date
	// of service.
	Deleted
)

// Lifetime is the verdict of History.On.
type Lifetime struct {
	State State
	// Explanation names the release(s) and dates the verdict rests on,
	// for an edit's message; "" when State is Unknown.
	Explanation string
}

// On returns the code's standing on the date of service dos.
//
// The rule is CMS's: "Diagnosis codes must be reported based on the date
// of service (including, when applicable, the date of discharge) on the
// claim", with the annual ICD-10-CM/PCS update effective each October 1
// and no grace period for discontinued codes (Medicare Claims Processing
// Manual, Pub. 100-04, chapter 23, section 10.2; HIPAA code sets are
// date-of-service compliant, 45 CFR 162.1002). HCPCS Level II records carry
// their own effective and termination dates (ADD DT, TERM DT).
//
// The rules, each applied only where the loaded releases show it:
//
//   - own dates, as the newest release with the code gives them: an ADD
//     DT after dos is NotYetValid, a TERM DT before dos Deleted;
//   - added later: a release without the code that ends before the
//     earliest release with it, and covers or follows dos (dos on or
//     before its end), makes the code NotYetValid on dos;
//   - deleted: a release without the code that starts after the latest
//     release with it, on or before dos, makes the code Deleted on dos.
//
// The last two assume, as CMS's code maintenance does, that a code's
// validity is one unbroken span: a deleted code is not brought back.
func (h History) On(dos time.Time) Lifetime {
	d := Day(dos)
	// The newest release's own dates are the current ones (a reactivated
	// HCPCS code loses its TERM DT).
	for _, e := range h.Entries[:min(1, len(h.Entries))] {
		if !e.From.IsZero() && d.Before(e.From) {
			return Lifetime{NotYetValid, fmt.Sprintf("it takes effect %s (ADD DT in %s release %s)",
				e.From.Format(time.DateOnly), e.Release.System, e.Release.Version)}
		}
		if !e.To.IsZero() && d.After(e.To) {
			return Lifetime{Deleted, fmt.Sprintf("it was terminated %s (TERM DT in %s release %s)",
				e.To.Format(time.DateOnly), e.Release.System, e.Release.Version)}
		}
	}
	if len(h.Entries) == 0 {
		return Lifetime{}
	}
	has := map[string]bool{}
	for _, e := range h.Entries {
		has[e.Release.Version] = true
	}
	first, last := h.Entries[0], h.Entries[0]
	for _, e := range h.Entries {
		if e.Release.From.Before(first.Release.From) {
			first = e
		}
		if e.Release.From.After(last.Release.From) {
			last = e
		}
	}
	rels := slices.Clone(h.Releases)
	slices.SortFunc(rels, func(a, b Release) int { return a.From.Compare(b.From) })
	// The latest release without the code that ends before the first
	// release with it: the code was added after that release's end.
	for i := len(rels) - 1; i >= 0; i-- {
		r := rels[i]
		if has[r.Version] || !r.To.Before(first.Release.From) {
			continue
		}
		if !d.After(r.To) {
			return Lifetime{NotYetValid, fmt.Sprintf("it was added in release %s (%s); release %s (%s) does not contain it",
				first.Release.Version, span(first.Release), r.Version, span(r))}
		}
		break
	}
	// The earliest release without the code that starts after the last
	// release with it: the code was deleted by that release's start.
	for _, r := range rels {
		if has[r.Version] || !r.From.After(last.Release.To) {
			continue
		}
		if !d.Before(r.From) {
			return Lifetime{Deleted, fmt.Sprintf("it was deleted: release %s (%s) contains it, release %s (%s) does not",
				last.Release.Version, span(last.Release), r.Version, span(r))}
		}
		break
	}
	return Lifetime{}
}

func span(r Release) string {
	return r.From.Format(time.DateOnly) + ".." + r.To.Format(time.DateOnly)
}
