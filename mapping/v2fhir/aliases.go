package v2fhir

import "github.com/codebridge/codebridge/fhir"

// DefaultAliases returns the built-in table of Options.Aliases: the HL7
// table 0396 names of the coding systems codebridge bills with ("I10" and
// "I10C" for ICD-10-CM, "C4" for CPT, "HCPCS"/"HCPT"...) and the
// spelled-out forms interface engines also send, keys upper-case, mapped
// to FHIR system URIs. The caller owns the returned map and may add a
// site's own spellings to it.
func DefaultAliases() map[string]string {
	return map[string]string{
		"I10": fhir.SystemICD10CM, "I10C": fhir.SystemICD10CM, "ICD10CM": fhir.SystemICD10CM, "ICD-10-CM": fhir.SystemICD10CM, "ICD10": fhir.SystemICD10CM,
		"I10P": fhir.SystemICD10PCS, "ICD10PCS": fhir.SystemICD10PCS, "ICD-10-PCS": fhir.SystemICD10PCS,
		"C4": fhir.SystemCPT, "CPT": fhir.SystemCPT, "CPT4": fhir.SystemCPT, "CPT-4": fhir.SystemCPT,
		"HCPCS": fhir.SystemHCPCS, "HCPT": fhir.SystemHCPCS, "C5": fhir.SystemCPT,
		"SCT": fhir.SystemSNOMED, "SNM": fhir.SystemSNOMED, "SNOMED": fhir.SystemSNOMED, "SNOMEDCT": fhir.SystemSNOMED,
	}
}
