package v2fhir_test

import (
	"testing"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/v2fhir"
)

// TestDefaultAliases: the built-in table names each billing system by its
// HL7 table 0396 code and spelled-out forms, and every call returns a map
// of its own (a site's aliases are added to it).
func TestDefaultAliases(t *testing.T) {
	tests := []struct{ alias, want string }{
		{"I10", fhir.SystemICD10CM},
		{"ICD-10-CM", fhir.SystemICD10CM},
		{"I10P", fhir.SystemICD10PCS},
		{"C4", fhir.SystemCPT},
		{"C5", fhir.SystemCPT},
		{"HCPT", fhir.SystemHCPCS},
		{"SCT", fhir.SystemSNOMED},
		{"LN", ""}, // LOINC: not a billing system, not aliased
	}
	aliases := v2fhir.DefaultAliases()
	for _, tt := range tests {
		if got := aliases[tt.alias]; got != tt.want {
			t.Errorf("DefaultAliases()[%q] = %q, want %q", tt.alias, got, tt.want)
		}
	}
	aliases["LOCALDX"] = fhir.SystemICD10CM
	if _, shared := v2fhir.DefaultAliases()["LOCALDX"]; shared {
		t.Error("DefaultAliases returns a shared map")
	}
}
