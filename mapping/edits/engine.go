package edits

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
)

// Check runs every edit on chart c against the code sets in lk and returns
// the findings in a fixed order: diagnoses, guideline sequencing
// (guidelines.go), the Tabular List instructions (tabular.go), the
// Medicare Code Editor lists (mce.go), procedures, lines, then NCCI.
// A nil slice means a clean chart. The error is non-nil only when a lookup
// failed for a reason other than the codes sentinel errors; the edits are
// then incomplete and must not be taken as a pass.
func Check(ctx context.Context, lk codes.Lookup, c Chart) ([]Edit, error) {
	k := &checker{ctx: ctx, lk: lk, c: c, warned: map[codes.System]bool{}}
	k.dischargeDate()
	k.diagnoses()
	k.guidelines()
	k.tabular() // tabular.go: the Tabular List instructions
	k.mce()     // mce.go: the Medicare Code Editor lists
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
		k.noRelease(system, dos, target)
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

// noRelease warns, once per system, that a code set was not checked on
// dos, naming the release that would cover dos and the command that loads
// it (codes.MissingRelease). An earlier release is never applied in its
// place: codes are reported by the date of service, with the annual update
// effective each October 1 and no grace period (Medicare Claims Processing
// Manual, Pub. 100-04, ch. 23 §10.2).
func (k *checker) noRelease(system codes.System, dos time.Time, target string) {
	if k.warned[system] {
		return
	}
	k.warned[system] = true
	k.note(NoReleaseForDOS, system, target, "%s", noReleaseMessage(system, dos))
	if blocksClaim(system) {
		k.edits[len(k.edits)-1].Severity = Error
	}
}

// blocksClaim reports whether a missing release of system is an error (a
// claim cannot be issued) rather than a warning. ICD-10-CM and ICD-10-PCS
// codes must be valid on the date of service, with no grace period (Pub.
// 100-04 ch. 23 §10.2; 45 CFR 162.1002): unchecked, a chart could be
// billed with a code deleted or turned into a header on October 1, so a
// coder cannot acknowledge the gap away; the operator loads the release
// the message names. The quarterly HCPCS Level II file, the NCCI tables,
// CPT (AMA-licensed, never shipped) and the POA-exempt list stay warnings:
// their gaps leave some lines unchecked, not the claim's validity unknown
// as a whole, and a coder decides (the straight-through coder never does
// for a code set the claim's codes come from).
func blocksClaim(system codes.System) bool {
	return system == codes.ICD10CM || system == codes.ICD10PCS
}

// noReleaseMessage is the NO_RELEASE_FOR_DOS message for system on dos:
// what was not checked, why no other release stood in, and the release to
// load with its command.
func noReleaseMessage(system codes.System, dos time.Time) string {
	blocks := ""
	if blocksClaim(system) {
		blocks = "; no claim can be issued with them until it is loaded: a code a payer finds invalid on the date " +
			"of service rejects the claim (HIPAA code sets, 45 CFR 162.1002)"
	}
	return fmt.Sprintf("no %s release is loaded for the date of service %s; these codes were not checked against it "+
		"(%s)%s: %s", system, day(dos), releaseRule(system), blocks, codes.MissingRelease(system, dos))
}

// releaseRule says why a release is applied only to its own dates.
func releaseRule(system codes.System) string {
	switch system {
	case codes.ICD10CM, codes.ICD10PCS, codes.POAExemptList:
		return "ICD-10 codes are reported by the date of service, the annual update taking effect each October 1 " +
			"with no grace period, so an earlier release is never applied: Pub. 100-04 ch. 23 §10.2"
	case codes.HCPCS, codes.HCPCSModifier:
		return "HCPCS Level II codes are reported by the date of service; CMS updates the file every quarter, " +
			"so an earlier quarter's file is never applied"
	case codes.MUETable, codes.PTPTable:
		return "CMS publishes the NCCI PTP and MUE tables every quarter, each for its own dates of service, " +
			"so an earlier quarter's table is never applied"
	case codes.MCE:
		return "no Medicare Code Editor release is loaded at all; any one loaded would be applied, the nearest outside its window (mce.go)"
	}
	return "a release is applied only to its own dates of service"
}

// lineDate is the service date of line l.
func (k *checker) lineDate(l Line) time.Time {
	if l.ServiceDate.IsZero() {
		return k.c.Start
	}
	return l.ServiceDate
}
