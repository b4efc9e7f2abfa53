package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

const billerTok = "e2e-biller-token"

// codeAndSubmit leases the next item and codes it cleanly.
func codeAndSubmit(t *testing.T, m *Main) map[string]any {
	t.Helper()
	code, item := apiCall(t, m, "POST", "/api/v1/work-items/next", "e2e-coder-token")
	if code != 200 {
		t.Fatalf("next = %d", code)
	}
	base := "/api/v1/work-items/" + item["id"].(string)
	good := map[string]any{"diagnoses": []any{map[string]any{"code": "J20.9"}, map[string]any{"code": "I10"}},
		"lines": []any{map[string]any{"code": "99213", "units": 1, "diagnoses": []int{1, 2}}}}
	if code, body := apiJSON(t, m, "PUT", base+"/codes", "e2e-coder-token", good); code != 200 {
		t.Fatalf("PUT codes = %d %v", code, body)
	}
	code, item = apiJSON(t, m, "POST", base+"/submit", "e2e-coder-token", map[string]any{"acknowledgeWarnings": true})
	if code != 200 || item["status"] != "completed" {
		t.Fatalf("submit = %d %v edits %v", code, item["status"], item["edits"])
	}
	return item
}

func readClaim(t *testing.T, m *Main, parser *fhir.Parser, ref string) map[string]any {
	t.Helper()
	r := sendAs(t, m, "GET", "/fhir/"+ref, nil, billerTok)
	if r.code != 200 {
		t.Fatalf("GET %s = %d %s", ref, r.code, r.body)
	}
	if _, err := parser.Parse(r.body); err != nil {
		t.Fatalf("%s is not valid R4: %v", ref, err)
	}
	if err := fhir.ValidateSchema(r.body); err != nil {
		t.Fatalf("%s fails the R4 JSON schema: %v", ref, err)
	}
	return r.json(t)
}

func TestClaimIssuedServedStreamedAndCorrected(t *testing.T) {
	m := startMain(t, pgtest.NewURLWithBundledCodes(t), func(c *config.Config) {
		c.Tokens = append(c.Tokens, config.Token{Name: "bill", Role: workitem.RoleBiller, Value: billerTok})
		c.QASampleRate = 0
	})
	parser, _ := fhir.NewParser()
	send(t, m, "POST", "/fhir", sample(t))
	item := codeAndSubmit(t, m)
	claimRef, _ := item["claim"].(string)
	if !strings.HasPrefix(claimRef, "Claim/") {
		t.Fatalf("completed item names no claim: %v", item["claim"])
	}
	claim := readClaim(t, m, parser, claimRef)
	body := jsonString(claim)
	for _, want := range []string{`"status":"active"`, `"code":"professional"`, `"J20.9"`, `"99213"`, `"95"`, `"10"`, `"1234567893"`} {
		if !strings.Contains(body, want) {
			t.Errorf("Claim lacks %s: %s", want, body)
		}
	}
	prov := readClaim(t, m, parser, "Provenance/"+postgres.ProvenanceID(claimRef[len("Claim/"):]))
	if !strings.Contains(jsonString(prov), `"display":"alice"`) || !strings.Contains(jsonString(prov["target"]), claimRef) {
		t.Errorf("Provenance = %s", jsonString(prov))
	}
	enc := item["encounter"].(map[string]any)["reference"].(string)
	r := sendAs(t, m, "GET", "/fhir/Claim?encounter="+enc+"&status=active", nil, billerTok)
	if r.code != 200 || !strings.Contains(string(r.body), `"type":"searchset"`) || !strings.Contains(string(r.body), claimRef[len("Claim/"):]) {
		t.Fatalf("search = %d %s", r.code, r.body)
	}
	if r := sendAs(t, m, "GET", "/fhir/"+claimRef, nil, "e2e-coder-token"); r.code != 403 {
		t.Errorf("coder reading a Claim = %d, want 403", r.code)
	}
	if r := sendAs(t, m, "POST", "/fhir/Claim", []byte(`{"resourceType":"Claim"}`), "e2e-admin-token"); r.code != 405 {
		t.Errorf("POST /fhir/Claim = %d, want 405", r.code)
	}
	if r := sendAs(t, m, "GET", "/fhir/Claim?bogus=1", nil, billerTok); r.code != 400 {
		t.Errorf("unknown search parameter = %d, want 400", r.code)
	}

	// Correction: a late Condition re-opens the item; re-coding issues a
	// replacement Claim pointing at the prior one, which is cancelled.
	late := `{"resourceType":"Condition","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"R05.9"}]},"subject":{"reference":"` +
		item["patient"].(string) + `"},"encounter":{"reference":"` + enc + `"}}`
	if r := send(t, m, "POST", "/fhir/Condition", []byte(late)); r.code != 201 {
		t.Fatalf("late condition = %d", r.code)
	}
	item2 := codeAndSubmit(t, m)
	claim2Ref := item2["claim"].(string)
	if claim2Ref == claimRef {
		t.Fatal("re-coding issued no new Claim")
	}
	claim2 := readClaim(t, m, parser, claim2Ref)
	if !strings.Contains(jsonString(claim2["related"]), claimRef) || !strings.Contains(jsonString(claim2["related"]), `"prior"`) {
		t.Errorf("replacement lacks related prior: %v", claim2["related"])
	}
	prior := readClaim(t, m, parser, claimRef)
	if prior["status"] != "cancelled" || prior["meta"].(map[string]any)["versionId"] != "2" {
		t.Errorf("prior Claim = status %v meta %v, want cancelled v2", prior["status"], prior["meta"])
	}
	// Withdrawing the Encounter cancels the current Claim.
	if r := send(t, m, "DELETE", "/fhir/"+enc, nil); r.code != 204 {
		t.Fatalf("delete encounter = %d", r.code)
	}
	if c := readClaim(t, m, parser, claim2Ref); c["status"] != "cancelled" {
		t.Errorf("Claim after Encounter withdrawal = %v", c["status"])
	}
	// The claims topic carried every version, keyed by Claim/{id}.
	rd := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{m.KafkaAddr}, Topic: m.Config.ClaimsTopic, GroupID: "t", StartOffset: kafka.FirstOffset, MaxWait: 50 * time.Millisecond})
	defer rd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	keys := map[string]int{}
	for n := 0; n < 4; n++ {
		msg, err := rd.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("claims topic after %d messages: %v", n, err)
		}
		var c struct{ ResourceType string }
		if json.Unmarshal(msg.Value, &c) != nil || c.ResourceType != "Claim" {
			t.Errorf("claims topic value is not a Claim")
		}
		keys[string(msg.Key)]++
	}
	if keys[claimRef] != 2 || keys[claim2Ref] != 2 {
		t.Errorf("claims topic keys = %v, want 2 versions of each Claim", keys)
	}
}
