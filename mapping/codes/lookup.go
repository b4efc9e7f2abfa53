package codes

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Errors returned by Lookup methods. Callers test them with errors.Is; any
// other error means the lookup itself failed (for example the database is
// unreachable) and the answer is unknown.
var (
	// ErrNoRelease means no release of the system is loaded for the date of
	// service.
	ErrNoRelease = errors.New("codes: no release loaded for the date of service")
	// ErrNotFound means the release in force does not contain the code (or
	// pair), and no other loaded release does either.
	ErrNotFound = errors.New("codes: not found")
	// ErrNotInForce means the code is known — in another loaded release, or
	// in the release in force but outside the code's own effective and
	// termination dates — yet not valid on the date of service.
	ErrNotInForce = errors.New("codes: not valid on the date of service")
	// ErrMUEPartial means the MUE release in force is a partial extract
	// (MUEPartialMarker) that does not list the code: its MUE is unknown,
	// not absent. It wraps ErrNoRelease, so a caller that does not tell
	// the two apart treats the code as not checked, never as a pass.
	ErrMUEPartial = fmt.Errorf("%w: the MUE release in force is a partial extract that does not list the code", ErrNoRelease)
)

// Entry is one code of a code system as a Lookup answers it.
type Entry struct {
	System System
	// Code is the storage form (no dots).
	Code string
	// Billable is false for ICD-10-CM/PCS headers (categories and
	// subcategories that need more characters); true otherwise.
	Billable bool
	Short    string
	Long     string
	// From and To are the code's own validity dates where the source has
	// them (HCPCS ADD DT and TERM DT); zero means unbounded.
	From, To time.Time
	// Action is the HCPCS action code, empty for other systems.
	Action string
	// Release is the release the entry was found in.
	Release Release
}

// Display returns the code in display form (ICD-10-CM with its dot).
func (e Entry) Display() string { return Display(e.System, e.Code) }

// covers reports whether the entry's own dates admit dos.
func (e Entry) covers(dos time.Time) bool {
	d := Day(dos)
	return (e.From.IsZero() || !d.Before(e.From)) && (e.To.IsZero() || !d.After(e.To))
}

// Lookup answers code-set questions for a date of service. It is what the
// edit engine consumes; Catalog implements it in memory and the PostgreSQL
// store implements it over loaded releases. Codes may be given in display
// or storage form. Every method returns ErrNoRelease when no release of the
// system covers dos.
type Lookup interface {
	// Code returns the entry for code in system on dos. It returns
	// ErrNotFound or ErrNotInForce (with the entry that was found) as
	// documented on those errors.
	Code(ctx context.Context, system System, code string, dos time.Time) (Entry, error)
	// MUE returns the Medically Unlikely Edit for code on dos, or
	// ErrNotFound when the code has none, or ErrMUEPartial when the
	// release in force is a partial extract that does not list it.
	MUE(ctx context.Context, code string, dos time.Time) (MUE, error)
	// PTP returns the NCCI edit with column1 and column2 in that order,
	// active on dos, or ErrNotFound.
	PTP(ctx context.Context, column1, column2 string, dos time.Time) (PTP, error)
	// POAExempt reports whether the ICD-10-CM code is on the POA-exempt
	// list in force on dos.
	POAExempt(ctx context.Context, code string, dos time.Time) (bool, error)
	// History returns every loaded release of system and the code's entry
	// in each of them that contains it (see History.On). It does not
	// depend on a date, so it never returns ErrNoRelease: with no release
	// of system loaded both lists are empty.
	History(ctx context.Context, system System, code string) (History, error)
	// Tabular returns the ICD-10-CM Tabular List instructions in force for
	// the ICD-10-CM code on dos (TabularInstructions: the notes of its
	// node and of the nodes above it, and the 7th-character definition),
	// from the icd10cm-tabular release covering dos. It returns
	// ErrNotFound when that release has no node for the code or for any
	// category above it.
	Tabular(ctx context.Context, code string, dos time.Time) (TabularInstructions, error)
	// MCE returns the Medicare Code Editor lists the ICD-10-CM code is
	// on, in the MCE release applied on dos (PickMCE: the one covering
	// dos, else the nearest, with MCEFacts.Note saying so); no lists when
	// it is on none. It returns ErrNoRelease only when no MCE release is
	// loaded.
	MCE(ctx context.Context, code string, dos time.Time) (MCEFacts, error)
}
