package edits

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
)

func (k *checker) lines() {
	for i, l := range k.c.Lines {
		t := fmt.Sprintf("lines[%d]", i)
		dos := k.lineDate(l)
		k.lineCode(codes.Normalize(codes.CPT, l.Code), dos, t+".code")
		k.modifiers(l, dos, t)
		if l.Units < 1 {
			k.add(UnitsInvalid, Error, t+".units", "%s: units must be a whole number of at least 1", strings.TrimSpace(l.Code))
		}
		if k.c.ClaimType == Professional {
			k.pointers(l, t)
		}
		k.telehealth(l, t)
	}
}

// lineCode checks a line's CPT or HCPCS code. CPT is checked against a
// user-loaded CPT release when there is one and by format otherwise.
func (k *checker) lineCode(code string, dos time.Time, target string) {
	if _, ok := codes.CPTFormat(code); ok {
		e, err := k.lk.Code(k.ctx, codes.CPT, code, dos)
		switch k.classify(err) {
		case noRelease:
			if !k.lifetime(codes.CPT, code, dos, target) {
				k.note(CPTUnverified, codes.CPT, target, "CPT %s has a valid format but no CPT release is loaded to verify it", code)
			}
		case notFound:
			k.add(CPTUnknown, Error, target, "%s is not in the loaded CPT release", code)
		case notInForce:
			if !k.lifetime(codes.CPT, code, dos, target) {
				k.add(PxNotValidOnDOS, Error, target, "CPT %s is not valid on the date of service %s (it is in release %s)", code, day(dos), e.Release.Version)
			}
		}
		return
	}
	if codes.HCPCSFormat(code) {
		e, st := k.code(codes.HCPCS, code, dos, target)
		switch {
		case (st == notInForce || st == noRelease) && k.lifetime(codes.HCPCS, code, dos, target):
		case st == notInForce:
			k.add(PxNotValidOnDOS, Error, target, "HCPCS %s is not valid on the date of service %s (added %s, terminated %s)",
				code, day(dos), day(e.From), day(e.To))
		case st == notFound && k.known(codes.ICD10CM, code, dos):
			k.add(DxIsProcedure, Error, target, "%s is an ICD-10-CM diagnosis, not a procedure code", code)
		case st == notFound:
			k.add(HCPCSUnknown, Error, target, "%s is not a HCPCS Level II code", code)
		}
		return
	}
	if k.known(codes.ICD10CM, code, dos) {
		k.add(DxIsProcedure, Error, target, "%s is an ICD-10-CM diagnosis, not a procedure code",
			codes.Display(codes.ICD10CM, code))
		return
	}
	k.add(CPTFormat, Error, target, "%q is neither a CPT nor a HCPCS Level II code", code)
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.DateOnly)
}

// modifiers checks each modifier's format; alphabetic-first modifiers are
// HCPCS Level II modifiers and must be in the HCPCS release. Modifiers
// starting with a digit are CPT modifiers (AMA) and are checked by format.
func (k *checker) modifiers(l Line, dos time.Time, target string) {
	for j, m := range l.Modifiers {
		t := fmt.Sprintf("%s.modifiers[%d]", target, j)
		m = strings.ToUpper(strings.TrimSpace(m))
		if !codes.ModifierFormat(m) {
			k.add(ModifierInvalid, Error, t, "modifier %q must be two letters or digits", m)
			continue
		}
		if m[0] >= '0' && m[0] <= '9' {
			continue
		}
		switch _, st := k.code(codes.HCPCSModifier, m, dos, t); st {
		case notFound:
			k.add(ModifierInvalid, Error, t, "modifier %s is not a HCPCS Level II modifier", m)
		case notInForce:
			k.add(ModifierInvalid, Error, t, "modifier %s is not valid on the date of service", m)
		}
	}
}

// pointers checks the 1-based diagnosis pointers of a professional line.
func (k *checker) pointers(l Line, target string) {
	switch {
	case len(l.Diagnoses) == 0:
		k.add(LineNoPointer, Error, target+".diagnoses", "%s has no diagnosis pointer", l.Code)
	case len(l.Diagnoses) > maxPointers:
		k.add(LineTooManyPointer, Error, target+".diagnoses",
			"%s has %d diagnosis pointers; a professional line carries at most %d", l.Code, len(l.Diagnoses), maxPointers)
	}
	for j, p := range l.Diagnoses {
		if p < 1 || p > len(k.c.Diagnoses) {
			k.add(LinePointerRange, Error, fmt.Sprintf("%s.diagnoses[%d]", target, j),
				"%s points to diagnosis %d but %d are coded", l.Code, p, len(k.c.Diagnoses))
		}
	}
}

func hasModifier(l Line, set []string) bool {
	for _, m := range l.Modifiers {
		if slices.Contains(set, strings.ToUpper(strings.TrimSpace(m))) {
			return true
		}
	}
	return false
}

// procedures checks the ICD-10-PCS procedures of an inpatient stay.
// ICD-10-PCS is the procedure code set of inpatient hospital claims only
// (HIPAA code-set rule, 45 CFR 162.1002(c)(3); UB-04 FL74 / 837I
// "Principal Procedure Information" on type of bill 11x): on an outpatient
// institutional or a professional claim procedures are CPT/HCPCS lines, so
// an ICD-10-PCS code there is PX_NOT_INPATIENT, an error, and the Claim is
// never built with it silently dropped.
func (k *checker) procedures() {
	for i, p := range k.c.Procedures {
		t := fmt.Sprintf("procedures[%d]", i)
		if !k.c.InpatientClaim() {
			k.add(PxNotInpatient, Error, t,
				"ICD-10-PCS %s: ICD-10-PCS procedures are reported on inpatient institutional claims only (HIPAA code sets, 45 CFR 162.1002); "+
					"this %s claim reports procedures as CPT/HCPCS lines", codes.Normalize(codes.ICD10PCS, p.Code), k.c.claimKind())
		}
		// An inpatient stay's procedures take the release of its discharge
		// date, whatever day they were done (codeSetDate).
		dos := p.Date
		if dos.IsZero() || k.c.InpatientClaim() {
			dos = k.c.codeSetDate()
		}
		code := codes.Normalize(codes.ICD10PCS, p.Code)
		e, st := k.code(codes.ICD10PCS, code, dos, t)
		switch {
		case st == found && !e.Billable:
			k.add(PxHeader, Error, t, "ICD-10-PCS %s is a table header, not a complete 7-character code", code)
		case (st == notInForce || st == noRelease) && k.lifetime(codes.ICD10PCS, code, dos, t):
		case st == notInForce:
			k.add(PxNotValidOnDOS, Error, t, "ICD-10-PCS %s is not valid on the date of service %s (it is in release %s)", code, day(dos), e.Release.Version)
		case st == notFound && k.known(codes.ICD10CM, code, dos):
			k.add(DxIsProcedure, Error, t, "%s is an ICD-10-CM diagnosis, not an ICD-10-PCS procedure", codes.Display(codes.ICD10CM, code))
		case st == notFound:
			k.add(PxUnknown, Error, t, "%s is not an ICD-10-PCS code", code)
		}
	}
}
