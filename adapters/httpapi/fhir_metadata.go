package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/mapping"
)

// metadata answers the CapabilityStatement: exactly the interactions that
// work. Claim is listed read-only once the Claim routes register it.
func (a *fhirAPI) metadata(c echo.Context) error {
	type interaction struct {
		Code string `json:"code"`
	}
	type resource struct {
		Type              string        `json:"type"`
		Interaction       []interaction `json:"interaction"`
		Versioning        string        `json:"versioning"`
		ReadHistory       bool          `json:"readHistory"`
		UpdateCreate      bool          `json:"updateCreate"`
		ConditionalCreate bool          `json:"conditionalCreate"`
		ConditionalUpdate bool          `json:"conditionalUpdate"`
		ConditionalDelete string        `json:"conditionalDelete"`
	}
	var rs []resource
	for _, t := range mapping.Supported {
		rs = append(rs, resource{Type: t, Versioning: "versioned-update", ReadHistory: true, UpdateCreate: true, ConditionalCreate: true,
			ConditionalDelete: "not-supported",
			Interaction:       []interaction{{"read"}, {"vread"}, {"create"}, {"update"}, {"delete"}}})
	}
	cs := map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         time.Now().UTC().Format("2006-01-02"),
		"kind":         "instance",
		"software":     map[string]string{"name": "codebridge"},
		"implementation": map[string]string{
			"description": "codebridge: FHIR R4 encounters in, coded Claims out",
		},
		"fhirVersion": "4.0.1",
		"format":      []string{"application/fhir+json"},
		"rest": []map[string]any{{
			"mode":        "server",
			"security":    map[string]any{"description": "Bearer tokens (Authorization: Bearer <token>); roles ehr, coder, auditor, biller, admin"},
			"resource":    rs,
			"interaction": []interaction{{"transaction"}, {"batch"}},
		}},
	}
	b, err := json.Marshal(cs)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/fhir+json; charset=utf-8", b)
}
