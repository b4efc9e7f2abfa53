package edits

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/codebridge/codebridge/mapping/codes"
)

// MaxProfDiagnoses is the number of diagnoses a professional claim (837P
// HI segment, CMS-1500 item 21 A-L) carries; MaxInstDiagnoses the number an
// institutional claim carries: the principal diagnosis and 24 others (837I
// 005010X223A2, HI "Other Diagnosis Information", two segments of 12; the
// UB-04 paper form has fewer fields, the electronic claim is what is sent).
// maxPointers is the pointers per professional line (24E). A claim with
// more is an error for the coder, never a silent truncation.
const (
	MaxProfDiagnoses = 12
	MaxInstDiagnoses = 25
	maxPointers      = 4
)

// MaxDiagnoses is the most diagnoses a claim of type t carries.
func MaxDiagnoses(t ClaimType) int {
	if t == Institutional {
		return MaxInstDiagnoses
	}
	return MaxProfDiagnoses
}

func (k *checker) diagnoses() {
	c := k.c
	if len(c.Diagnoses) == 0 || strings.TrimSpace(c.Diagnoses[0].Code) == "" {
		k.add(DxPrincipalMissing, Error, "diagnoses[0]", "the principal or first-listed diagnosis is missing")
	}
	switch limit := MaxDiagnoses(c.ClaimType); {
	case len(c.Diagnoses) <= limit:
	case c.ClaimType == Institutional:
		k.add(InstTooManyDx, Error, fmt.Sprintf("diagnoses[%d]", limit),
			"an institutional claim (837I) carries at most %d diagnoses, the principal and 24 others; %d were coded "+
				"and none is dropped automatically: keep those that affect care, treatment or length of stay", limit, len(c.Diagnoses))
	default:
		k.add(ProfTooManyDx, Error, fmt.Sprintf("diagnoses[%d]", limit),
			"a professional claim carries at most %d diagnoses; %d were coded", limit, len(c.Diagnoses))
	}
	seen := map[string]int{}
	for i, d := range c.Diagnoses {
		target := fmt.Sprintf("diagnoses[%d]", i)
		code := codes.Normalize(codes.ICD10CM, d.Code)
		if code == "" {
			if i > 0 {
				k.add(DxUnknown, Error, target, "the diagnosis code is empty")
			}
			continue
		}
		if j, dup := seen[code]; dup {
			k.add(DxDuplicate, Error, target, "ICD-10-CM %s is already coded at diagnoses[%d]",
				codes.Display(codes.ICD10CM, code), j)
			continue
		}
		seen[code] = i
		e, ok := k.diagnosis(i, code, target)
		if !ok {
			continue
		}
		k.poa(e, d.POA, target+".poa")
		k.demographics(e, target)
	}
}

// diagnosis checks that code (diagnosis i) is a billable ICD-10-CM code
// on each of its dates of service (dxDates) and returns its entry when it
// is.
func (k *checker) diagnosis(i int, code, target string) (codes.Entry, bool) {
	shown := codes.Display(codes.ICD10CM, code)
	var first codes.Entry
	for n, dos := range k.dxDates(i) {
		e, st := k.code(codes.ICD10CM, code, dos, target)
		if n == 0 {
			first = e
		}
		switch st {
		case found:
			if !e.Billable {
				k.add(DxHeader, Error, target,
					"ICD-10-CM %s is a header, not a billable code; code to the highest specificity", shown)
				return e, false
			}
			continue
		case notInForce:
			if !k.lifetime(codes.ICD10CM, code, dos, target) {
				k.add(DxNotValidOnDOS, Error, target,
					"ICD-10-CM %s is not valid on the date of service %s (it is in release %s)", shown, day(dos), e.Release.Version)
			}
		case noRelease:
			k.lifetime(codes.ICD10CM, code, dos, target)
		case notFound:
			if k.isProcedure(code) {
				k.add(PxIsDiagnosis, Error, target, "%s is a procedure code, not an ICD-10-CM diagnosis", shown)
			} else {
				k.add(DxUnknown, Error, target, "%s is not an ICD-10-CM code", shown)
			}
		}
		return e, false
	}
	return first, true
}

// isProcedure reports whether code is a CPT, HCPCS or ICD-10-PCS code.
func (k *checker) isProcedure(code string) bool {
	if _, ok := codes.CPTFormat(code); ok {
		return true
	}
	return k.known(codes.HCPCS, code, k.c.Start) || k.known(codes.ICD10PCS, code, k.c.Start)
}

// poa checks the present-on-admission indicator. POA is required on
// inpatient institutional claims only (CMS, IPPS hospitals; the FY2026
// ICD-10-CM Official Guidelines, Appendix I). Valid values are Y, N, U and
// W; codes on the POA-exempt list are reported with the POA field left
// blank (Appendix I: the exempt list is the one case where the field is
// blank; 1 is the old exemption marker, accepted as blank).
// The Claim never carries a POA for an exempt code (POAExemptCodes), so an
// indicator the coder gave one is ignored, with POA_EXEMPT_IGNORED.
func (k *checker) poa(e codes.Entry, poa, target string) {
	if !k.c.InpatientClaim() {
		return
	}
	exempt, err := k.lk.POAExempt(k.ctx, e.Code, k.c.codeSetDate())
	listKnown := true
	switch k.classify(err) {
	case noRelease:
		k.noRelease(codes.POAExemptList, k.c.codeSetDate(), target)
		listKnown = false
	case failed:
		return
	}
	v := strings.ToUpper(strings.TrimSpace(poa))
	shown := e.Display()
	switch {
	case exempt:
		if v != "" && v != "1" {
			k.add(POAExemptIgnored, Warning, target,
				"ICD-10-CM %s is on the POA-exempt list (ICD-10-CM Official Guidelines, Appendix I); "+
					"the POA %q given is ignored and the Claim leaves it blank", shown, v)
		}
	case v == "":
		sev := Error
		if !listKnown {
			sev = Warning
		}
		k.add(POAMissing, sev, target, "the POA indicator for ICD-10-CM %s is missing on an inpatient claim", shown)
	case v == "Y" || v == "N" || v == "U" || v == "W":
	case v == "1":
		k.add(POAInvalid, Error, target, "POA 1 marks exempt codes; ICD-10-CM %s is not POA-exempt", shown)
	default:
		k.add(POAInvalid, Error, target, "the POA indicator for ICD-10-CM %s must be Y, N, U, W or 1", shown)
	}
}

// POAExemptCodes returns the ICD-10-CM codes (storage form) among c's
// diagnoses that are on the POA-exempt list in force on the date the POA
// edit uses: the Claim leaves their POA blank whatever the coder gave
// (ICD-10-CM Official Guidelines, Appendix I; CMS POA indicator reporting).
// It returns nil when c is not an inpatient institutional claim (no POA is
// reported) and when no list is loaded for the date (the edits then say
// NO_RELEASE_FOR_DOS and the indicators are kept as coded). The error is
// non-nil only when a lookup failed otherwise.
func POAExemptCodes(ctx context.Context, lk codes.Lookup, c Chart) (map[string]bool, error) {
	if !c.InpatientClaim() {
		return nil, nil
	}
	var out map[string]bool
	for _, d := range c.Diagnoses {
		code := codes.Normalize(codes.ICD10CM, d.Code)
		if code == "" {
			continue
		}
		exempt, err := lk.POAExempt(ctx, code, c.codeSetDate())
		switch {
		case errors.Is(err, codes.ErrNoRelease):
			return nil, nil
		case err != nil && !errors.Is(err, codes.ErrNotFound):
			return nil, fmt.Errorf("edits.POAExemptCodes: %w", err)
		case exempt:
			if out == nil {
				out = map[string]bool{}
			}
			out[code] = true
		}
	}
	return out, nil
}
