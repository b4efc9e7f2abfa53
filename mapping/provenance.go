package mapping

import (
	"encoding/json"
	"time"
)

// ProvenanceJSON builds the R4 Provenance stored beside an issued Claim: it
// targets the Claim, cites the Encounter it was coded from, and names who
// coded it (author) and, when someone else completed it (an auditor's
// review), who verified it. Agents are principal names, as display-only
// references: codebridge's users are not FHIR Practitioners.
func ProvenanceJSON(id, claimRef, encounterRef, coder, verifier string, recorded time.Time) ([]byte, error) {
	type coding struct {
		System string `json:"system"`
		Code   string `json:"code"`
	}
	type concept struct {
		Coding []coding `json:"coding"`
	}
	type ref struct {
		Reference string `json:"reference,omitempty"`
		Display   string `json:"display,omitempty"`
	}
	type agent struct {
		Type concept `json:"type"`
		Who  ref     `json:"who"`
	}
	participant := func(code string) concept {
		return concept{Coding: []coding{{System: "http://terminology.hl7.org/CodeSystem/provenance-participant-type", Code: code}}}
	}
	agents := []agent{{Type: participant("author"), Who: ref{Display: coder}}}
	if verifier != "" && verifier != coder {
		agents = append(agents, agent{Type: participant("verifier"), Who: ref{Display: verifier}})
	}
	return json.Marshal(map[string]any{
		"resourceType": "Provenance",
		"id":           id,
		"target":       []ref{{Reference: claimRef}},
		"recorded":     recorded.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		"activity":     concept{Coding: []coding{{System: "http://terminology.hl7.org/CodeSystem/v3-DataOperation", Code: "CREATE"}}},
		"agent":        agents,
		"entity":       []map[string]any{{"role": "source", "what": ref{Reference: encounterRef}}},
	})
}
