package edits

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
)

// Check runs every edit on chart c against the code sets in lk and returns
// the findings in a fixed order: diagnoses, the Medicare Code Editor lists
// (mce.go), procedures, lines, then NCCI.
// A nil slice means a clean chart. The error is non-nil only when a lookup
// failed for a reason other than the codes sentinel errors; the edits are
// then incomplete and must not be taken as a pass.
func Check(ctx context.Context, lk codes.Lookup, c Chart) ([]Edit, error) {
	k := &checker{ctx: ctx, lk: lk, c: c, warned: map[codes.System]bool{}}
	k.dischargeDate()
	k.diagnoses()
	k.mce()
	k.procedures()
	k.lines()
	k.ncci()
	if k.err != nil {
		return nil, fmt.Errorf("edits.Check: %w", k.err)
	}
	return k.edits, nil
}

// checker carries one Check run.
type checker struct {
	ctx    context.Context
	lk     codes.Lookup
	c      Chart
	edits  []Edit
	warned map[codes.System]bool
	err    error
	// mceSeen caches the MCE lookups of the run (mce.go).
	mceSeen map[string]mceAnswer
}

func (k *checker) add(code string, sev Severity, target, format string, args ...any) {
	k.edits = append(k.edits, Edit{Code: code, Severity: sev, Message: fmt.Sprintf(format, args...), Target: target})
}

// status is the outcome of a lookup.
type status int

const (
	found status = iota
	notFound
	notInForce
	noRelease
	failed
)

// classify maps a lookup error to a status, keeping the first unexpected
// error.
func (k *checker) classify(err error) status {
	switch {
	case err == nil:
		return found
	case errors.Is(err, codes.ErrNotFound):
		return notFound
	case errors.Is(err, codes.ErrNotInForce):
		return notInForce
	case errors.Is(err, codes.ErrNoRelease):
		return noRelease
	}
	if k.err == nil {
		k.err = err
	}
	return failed
}

// code looks code up and reports a missing release once per system.
func (k *checker) code(system codes.System, code string, dos time.Time, target string) (codes.Entry, status) {
	e, err := k.lk.Code(k.ctx, system, code, dos)
	st := k.classify(err)
	if st == noRelease {
		k.noRelease(system, target)
	}
	return e, st
}

// known reports, without reporting missing releases, whether code exists in
// system on dos (in force or not).
func (k *checker) known(system codes.System, code string, dos time.Time) bool {
	_, err := k.lk.Code(k.ctx, system, code, dos)
	st := k.classify(err)
	return st == found || st == notInForce
}

// noRelease warns, once per system, that a code set was not checked.
func (k *checker) noRelease(system codes.System, target string) {
	if k.warned[system] {
		return
	}
	k.warned[system] = true
	k.note(NoReleaseForDOS, system, target,
		"no %s release is loaded for the date of service; these codes were not checked against it", system)
}

// lineDate is the service date of line l.
func (k *checker) lineDate(l Line) time.Time {
	if l.ServiceDate.IsZero() {
		return k.c.Start
	}
	return l.ServiceDate
}
