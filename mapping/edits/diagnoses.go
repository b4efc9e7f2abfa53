package edits

import (
	"fmt"
	"strings"

	"github.com/codebridge/codebridge/mapping/codes"
)

// maxProfDiagnoses is the number of diagnoses a professional claim (837P,
// CMS-1500 item 21 A-L) carries; maxPointers the pointers per line (24E).
const (
	maxProfDiagnoses = 12
	maxPointers      = 4
)

func (k *checker) diagnoses() {
	c := k.c
	if len(c.Diagnoses) == 0 || strings.TrimSpace(c.Diagnoses[0].Code) == "" {
		k.add(DxPrincipalMissing, Error, "diagnoses[0]", "the principal or first-listed diagnosis is missing")
	}
	if c.ClaimType == Professional && len(c.Diagnoses) > maxProfDiagnoses {
		k.add(ProfTooManyDx, Error, fmt.Sprintf("diagnoses[%d]", maxProfDiagnoses),
			"a professional claim carries at most %d diagnoses; %d were coded", maxProfDiagnoses, len(c.Diagnoses))
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
// W; codes on the POA-exempt list are reported blank or with 1, the
// exemption marker.
func (k *checker) poa(e codes.Entry, poa, target string) {
	if !k.c.inpatient() || k.c.ClaimType != Institutional {
		return
	}
	exempt, err := k.lk.POAExempt(k.ctx, e.Code, k.c.codeSetDate())
	listKnown := true
	switch k.classify(err) {
	case noRelease:
		k.noRelease(codes.POAExemptList, target)
		listKnown = false
	case failed:
		return
	}
	v := strings.ToUpper(strings.TrimSpace(poa))
	shown := e.Display()
	switch {
	case exempt:
		if v != "" && v != "1" {
			k.add(POAInvalid, Warning, target, "ICD-10-CM %s is exempt from POA reporting; report it blank or 1", shown)
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
