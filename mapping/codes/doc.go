// Package codes reads the official code-set and claim-edit files used in
// medical coding, in the formats their publishers distribute, and answers
// lookups for a date of service.
//
// # Readers
//
// Every reader streams: it takes an io.Reader and calls a function for each
// record, stopping at the first error (which names the line). Nothing is
// buffered beyond one line, so the full ICD-10-CM order file (98,186 lines)
// parses in about 20 ms (BenchmarkLoadICD10CM).
//
//   - ReadOrder: CMS ICD-10-CM and ICD-10-PCS order files, fixed width as in
//     icd10OrderFiles.pdf (order number 1-5, code 7-13, header 0 / billable 1
//     flag 15, short title 17-76, long title 78+).
//   - ReadAddenda: the order-file addenda ("Add:", "Delete:", "Revise from:",
//     "Revise to:"), as Change records.
//   - ReadPOAExempt: the CDC/CMS POA-exempt list (tab separated, header
//     OrderYY / POAexemptCode / Description, per ReadMePOAexemptFYyy.txt).
//   - ReadHCPCSXLSX, ReadHCPCSCSV: the CMS HCPCS Level II ANWEB workbook
//     (excelize streaming rows) and a CSV dump of it. RECID 3/4 are codes,
//     7/8 Level II modifiers; 4 and 8 continue the long description.
//   - ReadMUE, ReadMUEJSON: CMS MUE tables as published (CSV or tab text with
//     the notice lines above the header) and the JSON extract {code:
//     {maxUnits, adjudicationType}}.
//   - ReadPTP: CMS NCCI column 1 / column 2 tables.
//   - ReadCPT: a user-supplied CPT list ("code<TAB>description",
//     "code,description" or a bare code a line).
//   - ReadTabular: the ICD-10-CM Tabular List XML (icd10cm_tabular.xsd),
//     streamed with encoding/xml: chapters, sections and <diag> nodes with
//     their parents and notes. Lookup.Tabular answers the instructions in
//     force for a code (TabularInstructions: the notes of its node and of
//     every node above it, the nearest 7th-character definition), with
//     the codes each note names (ParseCodeRefs).
//   - ReadMCE, ReadMCEText: the Medicare Code Editor diagnosis lists (age
//     conflict, manifestation, questionable admission, unacceptable
//     principal diagnosis) from the CMS "Definitions of Medicare Code
//     Edits" text file or its JSON extraction (mce.go).
//
// # Normalisation
//
// Codes are stored without dots and upper-cased (Normalize); ICD-10-CM is
// shown with a dot after the third character (Display: J209 is J20.9).
// ICD-10-PCS, HCPCS and CPT have no dots.
//
// # Releases and lookups
//
// A Release is one version of one System and the dates of service it
// governs: ICD-10-CM, ICD-10-PCS and the POA-exempt list follow the federal
// fiscal year (FY2026 = 2025-10-01..2026-09-30); HCPCS, MUE and PTP are
// quarterly (2025-Oct, 2026Q2); CPT is annual (2026 = calendar 2026).
// Window derives these from version labels.
//
// Lookup is the small interface the edit engine consumes. It distinguishes
// "no release for that date" (ErrNoRelease), "unknown code" (ErrNotFound)
// and "known, but not valid on that date" (ErrNotInForce), so that callers
// never mistake a missing code set for a clean pass. Catalog implements it
// in memory; the PostgreSQL store implements the same interface.
//
// A date no loaded release covers is never answered from another release:
// ReleaseFor names the release that would cover it and LoadHint the
// command that loads it; Coverage reports, per code set a site needs
// (SiteSystems), whether today is covered and for how many days.
//
// CPT is never checked against content codebridge ships: CPT descriptors
// are AMA copyright. Without a user-loaded CPT release, Code(CPT, ...)
// returns ErrNoRelease and callers fall back to CPTFormat.
//
// # Bundled sets
//
// Bundled embeds the public-domain FY2026 ICD-10-CM and ICD-10-PCS order
// files, the FY2026 POA-exempt list and the October 2025 HCPCS Level II file
// (gzip, about 3.2 MB), so a fresh install starts with real code sets, the
// official FY2027 ICD-10-CM order-file addenda (5 KB) from which the FY2027
// ICD-10-CM release is derived (DeriveOrder), and
// the 2026 Q2 practitioner MUE date-of-service (MAI 3) values, a partial
// derivative of the CMS table (code numbers and values only, 30 KB): it is
// loaded as partial, so codes it does not list are reported as not checked.
// The Medicare Code Editor v43.1 lists (a JSON extraction of the CMS text,
// 65 KB) are bundled too; MCE version NN is the fiscal year NN-17 and NN.1
// its April update, and a date no loaded MCE release covers gets the
// nearest one (PickMCE).
// PTP tables and CPT are never bundled; small hand-made extracts for tests
// live in testdata/codesets.
package codes
