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
//     (warning, once per system), never a silent pass and never an earlier
//     release applied in its place; the message names the release that
//     would cover the date and the command that loads it
//     (codes.ReleaseFor, codes.LoadHint).
//   - Dates of service (Medicare Claims Processing Manual, Pub. 100-04,
//     ch. 23, sec. 10.2: codes by date of service, by discharge date for
//     inpatient stays; ICD-10-CM/PCS releases take effect October 1): the
//     chart's dates are the encounter's local calendar dates; an inpatient
//     stay on an institutional claim takes its ICD-10-CM/PCS and POA-exempt
//     releases by its discharge date (NO_DISCHARGE_DATE, a warning, when it
//     has none); on a professional claim each line has its own date and a
//     diagnosis must be valid on the date of every line pointing to it.
//   - Code lifetime across releases (codes.History): a code added after the
//     date of service is CODE_NOT_YET_VALID and a code deleted or
//     terminated on or before it is CODE_DELETED, whenever the loaded
//     releases show it, even when no release for that date is loaded.
//   - CPT_UNVERIFIED and NO_RELEASE_FOR_DOS are coverage notes (a rule set
//     not loaded, IsCoverageNote; Edit.Covers names it), not findings on the
//     chart: the straight-through policy weighs them by whether their rules
//     could have fired (coverage.go).
//   - Sequence: DX_PRINCIPAL_MISSING, DX_DUPLICATE (the MCE "duplicate of
//     PDX" generalised to any repeat).
//   - Guideline sequencing (guidelines.go; ICD-10-CM Official Guidelines for
//     Coding and Reporting FY2026), each edit with Rule (the section) and
//     RuleText (the guideline's words): an external cause code (V00-Y99)
//     first-listed, I.C.20 (GL_EXTERNAL_CAUSE_FIRST, error); a Z code of the
//     I.C.21.c.15 table "Z Codes That May Only be Principal/First-Listed
//     Diagnosis" in another place (GL_Z_FIRST_LISTED_ONLY, error); a
//     chapter 19 sequela code (7th character S) or O94 first-listed, I.C.19.a,
//     I.C.15.p.3, I.B.10 (GL_SEQUELA_FIRST, error); a chapter 19 sequela code
//     after only injury or external cause codes, where whether its nature
//     is coded first cannot be told (GL_SEQUELA_NATURE_UNCLEAR, warning);
//     Z51.0 and Z51.1- together in either order, I.C.2.e.2 (not flagged); a
//     secondary observation code Z04 (GL_Z04_SECONDARY, warning, I.C.21.c.6);
//     an underdosing code first-listed, I.C.19.e.5.c (GL_UNDERDOSING_FIRST,
//     error). The warnings are for a person (PersonWarningCodes).
//   - ICD-10-CM Tabular List instructions (tabular.go; an icd10cm-tabular
//     release, ICD-10-CM Official Guidelines I.A): TABULAR_EXCLUDES1,
//     TABULAR_CODE_FIRST, TABULAR_7TH_CHARACTER (errors),
//     TABULAR_USE_ADDITIONAL_CODE (an error for a code "classified
//     elsewhere", else a warning), TABULAR_ETIOLOGY_UNLISTED (warning);
//     Excludes2 raises none.
//     Without a Tabular List for the date: NO_RELEASE_FOR_DOS covering
//     icd10cm-tabular.
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
//     ICD-10-CM blocks titled for male or female genital organs. The MCE
//     sex edit is deactivated (CMS, 10/01/2024), so SEX_CONFLICT stays a
//     warning and names that source; AGE_CONFLICT is not raised for a code
//     on an MCE age list (MCE_AGE_CONFLICT is).
//   - Medicare Code Editor (mce.go; CMS "Definitions of Medicare Code
//     Edits", v43.1 bundled), on every chart whatever the payer:
//     MCE_AGE_CONFLICT (error for the perinatal and pediatric lists,
//     warning for maternity and adult), MCE_MANIFESTATION_AS_PRINCIPAL
//     (error), MCE_UNACCEPTABLE_PRINCIPAL (error as an inpatient principal
//     diagnosis, a person's warning as an outpatient first-listed one: O09
//     and the Z codes a visit may be for excepted, the Z codes the
//     guidelines report only as secondary (I.B.14, I.C.21.c.3/c.4/c.11)
//     not), MCE_QUESTIONABLE_ADMISSION (warning, inpatient). Each
//     names its rule (Edit.Rule, Edit.RuleText); a release applied outside
//     its window says so in the message.
//   - Professional claim shape (837P / CMS-1500): at most 12 diagnoses
//     (PROF_TOO_MANY_DX), 1-4 pointers per line into the list
//     (LINE_NO_POINTER, LINE_TOO_MANY_POINTERS, LINE_POINTER_RANGE).
//     Institutional claims (837I): at most 25 diagnoses, the principal and
//     24 others (INST_TOO_MANY_DX). Never truncated silently.
//   - Lines: UNITS_INVALID (< 1), MODIFIER_INVALID (format; letter-first
//     modifiers must be HCPCS Level II modifiers in force; digit-first are
//     CPT modifiers, format only).
//   - NCCI by claim type (ncci.go): the MUE and PTP tables loaded are
//     practitioner tables, applied to professional claims only. Inpatient
//     institutional claims get no NCCI edit (NCCI is not applied to
//     inpatient facility claims: NCCI Policy Manual, Introduction).
//     Outpatient institutional claims take CMS's outpatient hospital
//     tables, which are not loaded: NO_RELEASE_FOR_DOS coverage notes
//     (Covers mue: a code above 1 unit on a date; Covers ptp: two
//     different codes on one date) instead of the practitioner edits.
//   - NCCI MUE (NCCI Policy Manual ch. I §V; CMS MUE tables): units per
//     line (MUE adjudication indicator 1) or summed per code and date of
//     service (MAI 2, 3) above the MUE value: MUE_EXCEEDED (error, MAI 1
//     and 2: a policy limit) or MUE_EXCEEDED_CLINICAL (warning, MAI 3:
//     payable only with documentation, so a person decides). An MUE of 0
//     (not payable by Medicare for practitioners): MUE_ZERO, an error when
//     Chart.Medicare, a warning otherwise. Lines whose MUE was not checked
//     (no table for the date, or a partial table that does not list the
//     code): one NO_RELEASE_FOR_DOS warning on the line with most units.
//   - NCCI PTP (NCCI Policy Manual ch. I §E; PTP file README), both column
//     orders, lines on the same date: modifier indicator 0 is always an
//     error (NCCI_PTP_NO_MODIFIER_ALLOWED); indicator 1 is an error
//     (NCCI_PTP) unless an NCCI-associated modifier is on the right line:
//     25, 57, 24 or 27 on the E/M line of the pair (column 2 when both are); 59, XE, XP, XS, XU, 58,
//     78, 79, 91 or an anatomic modifier (E1-E4, FA, F1-F9, TA, T1-T9, LT,
//     RT, LC, LD, LM, RC, RI; not the same one as the column 1 line) on a
//     column 2 code that is not E/M; such a bypass is a warning naming the
//     pair and the modifier (NCCI_PTP_BYPASSED: confirm the record supports
//     a distinct service; HHS OIG reports on modifiers 59 and 25).
//     Indicator 9 and deleted edits are not edits. 59 or X{EPSU} on an E/M code (99202-99499, 98000-98016) is an
//     error of its own (NCCI_59_ON_EM; CPT 59 excludes E/M, NCCI Policy
//     Manual ch. XI).
//   - Telehealth (encounter class VR): each line needs modifier 95, 93, FQ,
//     FR, GT or GQ, or place of service 02 or 10, unless its code is a CPT
//     telemedicine code (98000-98016): TELEHEALTH_MODIFIER (warning). 95
//     with 93 or FQ (audio-video and audio-only) is an error, 95 on
//     98000-98016 a warning: TELEHEALTH_MODIFIER_CONFLICT. The Claim adds
//     95 by Add95 only to the codes of its CPT Appendix P table
//     (telehealth.go has the CMS and CPT sources).
package edits
