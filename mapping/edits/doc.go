// Package edits is a pure claim-edit engine: given a coded Chart and a
// codes.Lookup it returns the Edits a coder must resolve (errors) or review
// (warnings). It does no I/O of its own and never puts patient data in a
// message; messages name codes and rules, Target names the element.
//
// Rules and their sources:
//
//   - Code validity against the release in force on the date of service
//     (ICD-10-CM/PCS fiscal-year order files, HCPCS quarterly file, a
//     user-loaded CPT list): DX_UNKNOWN, DX_HEADER, DX_NOT_VALID_ON_DOS,
//     PX_UNKNOWN, PX_HEADER, PX_NOT_VALID_ON_DOS, HCPCS_UNKNOWN, CPT_UNKNOWN,
//     CPT_FORMAT, DX_IS_PROCEDURE, PX_IS_DIAGNOSIS. A header (flag 0 in the
//     order file) is never billable.
//   - CPT without a CPT release: checked by format only, CPT_UNVERIFIED
//     (warning). CPT content is AMA-licensed and never shipped.
//   - A code set with no release for the date of service: NO_RELEASE_FOR_DOS
//     (warning, once per system), never a silent pass.
//   - Sequence: DX_PRINCIPAL_MISSING, DX_DUPLICATE (the MCE "duplicate of
//     PDX" generalised to any repeat).
//   - Present on admission, inpatient institutional claims only: values Y,
//     N, U, W; the CDC/CMS POA-exempt list honoured, where blank or 1 (the
//     exemption marker) is expected: POA_MISSING, POA_INVALID. A POA given
//     on an exempt code is ignored and the Claim leaves it blank
//     (POAExemptCodes; ICD-10-CM Official Guidelines, Appendix I):
//     POA_EXEMPT_IGNORED (warning).
//   - ICD-10-PCS procedures on inpatient institutional claims only (HIPAA
//     code sets, 45 CFR 162.1002): PX_NOT_INPATIENT (error) elsewhere.
//   - Sex and age (SEX_CONFLICT, AGE_CONFLICT, warnings): a short documented
//     table in demographics.go — chapter 15 obstetrics female 9-64 (MCE
//     maternity range), chapter 16 perinatal age 0 (MCE newborn), and the
//     ICD-10-CM blocks titled for male or female genital organs.
//   - Professional claim shape (837P / CMS-1500): at most 12 diagnoses
//     (PROF_TOO_MANY_DX), 1-4 pointers per line into the list
//     (LINE_NO_POINTER, LINE_TOO_MANY_POINTERS, LINE_POINTER_RANGE).
//     Institutional claims (837I): at most 25 diagnoses, the principal and
//     24 others (INST_TOO_MANY_DX). Never truncated silently.
//   - Lines: UNITS_INVALID (< 1), MODIFIER_INVALID (format; letter-first
//     modifiers must be HCPCS Level II modifiers in force; digit-first are
//     CPT modifiers, format only).
//   - NCCI MUE: units per line (MAI 1) or summed per code and date of
//     service (MAI 2, 3) above the MUE value: MUE_EXCEEDED.
//   - NCCI PTP, both column orders, lines on the same date: modifier
//     indicator 0 is always an error (NCCI_PTP_NO_MODIFIER_ALLOWED);
//     indicator 1 is an error unless either line carries 59, XE, XS, XP or
//     XU (NCCI_PTP); deleted edits and indicator 9 are ignored.
//   - Telehealth (encounter class VR): each line needs modifier 95, 93, FQ,
//     FR, GT or GQ, or place of service 02 or 10, unless its code is a CPT
//     telemedicine code (98000-98016): TELEHEALTH_MODIFIER (warning). 95
//     with 93 or FQ (audio-video and audio-only) is an error, 95 on
//     98000-98016 a warning: TELEHEALTH_MODIFIER_CONFLICT. The Claim adds
//     95 by Add95 (telehealth.go has the CMS sources).
package edits
