package postgres_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// freshBundle builds a transaction Bundle of POSTs (and, for "PUT Type/id"
// entries, PUTs) from (fullUrl-number, type, body) triples; references are
// written as urn:uuid numbers with {n}.
func freshBundle(entries ...string) []byte {
	u := func(n string) string { return "urn:uuid:fe000000-0000-4000-8000-" + fmt.Sprintf("%012s", n) }
	var out []string
	for i := 0; i+2 < len(entries); i += 3 {
		n, typ, body := entries[i], entries[i+1], entries[i+2]
		for j := 0; j < 10; j++ {
			body = strings.ReplaceAll(body, fmt.Sprintf("{%d}", j), u(fmt.Sprint(j)))
		}
		req := `{"method":"POST","url":"` + typ + `"}`
		if strings.HasPrefix(n, "PUT ") {
			id := strings.TrimPrefix(n, "PUT ")
			req = `{"method":"PUT","url":"` + typ + `/` + id + `"}`
			body = `"id":"` + id + `",` + body
			out = append(out, `{"resource":{"resourceType":"`+typ+`",`+body+`},"request":`+req+`}`)
			continue
		}
		out = append(out, `{"fullUrl":"`+u(n)+`","resource":{"resourceType":"`+typ+`",`+body+`},"request":`+req+`}`)
	}
	return []byte(`{"resourceType":"Bundle","type":"transaction","entry":[` + strings.Join(out, ",") + `]}`)
}

const (
	fbCond = `"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"encounter-diagnosis"}]}],` +
		`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"%s"},{"system":"http://snomed.info/sct","code":"10509002"}]},` +
		`"subject":{"reference":"%s"},"encounter":{"reference":"%s"}`
	fbEnc = `"status":"%s","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"%s"}%s,` +
		`"period":{"start":"2026-03-10T14:00:00Z","end":"2026-03-10T15:00:00Z"}`
)

func fbSubject(ref string) string {
	if ref == "" {
		return ""
	}
	return `,"subject":{"reference":"` + ref + `"}`
}

// TestFreshPathMatchesTransaction writes the same Bundles through the
// one-statement path for fresh writes and through the general transaction
// (turned off on a second store, same clock, same ids) and compares every
// row they leave: resources, versions, identifiers, work items, history and
// status events. It also checks which Bundles qualify: only those whose work
// items have every source in the Bundle.
func TestFreshPathMatchesTransaction(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC)
	o := postgres.StoreOptions{StatusTopic: "status"}
	fast, slow := postgres.NewStore(pgtest.New(t), o), postgres.NewStore(pgtest.New(t), o)
	postgres.DisableFreshPath(slow)
	for _, s := range []*postgres.Store{fast, slow} {
		postgres.SetNow(s, func() time.Time { return at })
	}
	parser, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	var lastID int
	steps := []struct {
		name  string
		fresh bool
		raw   []byte
	}{
		{"telehealth visit", true, freshBundle(
			"1", "Patient", `"identifier":[{"system":"urn:mrn","value":"M1"}],"name":[{"family":"Fresh","given":["Ann"]}],"gender":"female","birthDate":"1980-02-03"`,
			"2", "Coverage", `"status":"active","beneficiary":{"reference":"{1}"},"payor":[{"display":"Payer"}]`,
			"3", "Encounter", fmt.Sprintf(fbEnc, "finished", "VR", fbSubject("{1}")),
			"4", "Condition", fmt.Sprintf(fbCond, "J20.9", "{1}", "{3}"),
			"5", "Condition", fmt.Sprintf(fbCond, "I10", "{1}", "{3}"),
			"6", "Procedure", `"status":"completed","code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99213"}]},"subject":{"reference":"{1}"},"encounter":{"reference":"{3}"},"performedDateTime":"2026-03-10T14:30:00Z"`,
			"7", "DocumentReference", `"status":"current","subject":{"reference":"{1}"},"content":[{"attachment":{"contentType":"text/plain","data":"bm90ZQ=="}}],"context":{"encounter":[{"reference":"{3}"}]}`,
		)},
		{"two encounters of one patient, one still in progress", true, freshBundle(
			"1", "Patient", `"name":[{"family":"Twice"}]`,
			"2", "Encounter", fmt.Sprintf(fbEnc, "finished", "EMER", fbSubject("{1}")),
			"3", "Encounter", fmt.Sprintf(fbEnc, "in-progress", "AMB", fbSubject("{1}")),
			"4", "Condition", fmt.Sprintf(fbCond, "R07.9", "{1}", "{2}"),
			"5", "Condition", fmt.Sprintf(fbCond, "E11.9", "{1}", "{3}"),
		)},
		{"withdrawn before queued", true, freshBundle(
			"1", "Patient", `"name":[{"family":"Gone"}]`,
			"2", "Encounter", fmt.Sprintf(fbEnc, "entered-in-error", "AMB", fbSubject("{1}")),
			"3", "Condition", fmt.Sprintf(fbCond, "J20.9", "{1}", "{2}"),
		)},
		{"encounter without a patient", true, freshBundle(
			"1", "Encounter", fmt.Sprintf(fbEnc, "finished", "AMB", ""),
			"2", "Practitioner", `"name":[{"family":"Doc"}]`,
		)},
		{"late condition for a stored encounter", false, nil}, // built below from the first step's ids
		{"encounter of a stored patient", false, nil},
		{"coverage of a stored patient", false, nil},
		{"a PUT among the POSTs", false, freshBundle(
			"1", "Patient", `"name":[{"family":"Put"}]`,
			"PUT org-1", "Organization", `"name":"Clinic"`,
			"2", "Encounter", fmt.Sprintf(fbEnc, "finished", "AMB", fbSubject("{1}")),
		)},
	}
	nextID := func() string { lastID++; return fmt.Sprintf("fresh-%03d", lastID) }
	for _, st := range steps {
		raw := st.raw
		switch st.name {
		case "late condition for a stored encounter":
			raw = freshBundle("1", "Condition", fmt.Sprintf(fbCond, "E78.5", "Patient/fresh-001", "Encounter/fresh-003"))
		case "encounter of a stored patient":
			raw = freshBundle("1", "Encounter", fmt.Sprintf(fbEnc, "finished", "AMB", fbSubject("Patient/fresh-001")),
				"2", "Condition", fmt.Sprintf(fbCond, "J20.9", "Patient/fresh-001", "{1}"))
		case "coverage of a stored patient":
			raw = freshBundle("1", "Coverage", `"status":"active","beneficiary":{"reference":"Patient/fresh-001"},"payor":[{"display":"Other payer"}]`)
		}
		b, err := parser.ParseBundle(raw)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		plans, err := mapping.PlanBundle(b, nextID)
		if err != nil {
			t.Fatalf("%s: plan: %v", st.name, err)
		}
		var ws []workitem.ResourceWrite
		for _, p := range plans {
			ws = append(ws, ingest.WriteFor(*p.Write))
		}
		if got, err := postgres.PlansFresh(ctx, fast, ws); err != nil || got != st.fresh {
			t.Errorf("%s: one-statement path = %v, %v; want %v", st.name, got, err, st.fresh)
		}
		for _, s := range []*postgres.Store{fast, slow} {
			res, err := s.WriteResources(ctx, "ehr", ws)
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			for i, r := range res {
				if r.ID != ws[i].ID || r.Version != 1 || !r.Created || !r.LastUpdated.Equal(at) || !strings.Contains(string(r.Raw), `"versionId":"1"`) {
					t.Errorf("%s: result %d = %+v", st.name, i, r)
				}
			}
		}
		if diff := cmp.Diff(dumpWrites(t, slow.DB().DB), dumpWrites(t, fast.DB().DB)); diff != "" {
			t.Errorf("after %s: rows differ (-transaction +one statement):\n%s", st.name, diff)
		}
	}
	var items, events int
	if err := fast.DB().QueryRow(`SELECT (SELECT count(*) FROM work_items), (SELECT count(*) FROM outbox)`).Scan(&items, &events); err != nil {
		t.Fatal(err)
	}
	// visit, two encounters, no patient, stored patient, PUT bundle: 6 items
	// (the withdrawn one never queued); the late Condition changes a ready
	// item's documentation without a status change, so no event.
	if items != 6 || events != 6 {
		t.Errorf("work items %d, status events %d; want 6 and 6", items, events)
	}
}

// dumpWrites reads every row a resource write leaves, with the random work
// item ids and event ids replaced by what identifies them (the encounter).
func dumpWrites(t *testing.T, db *sql.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	queries := map[string]string{
		"resources": `SELECT concat_ws(' ', type, id, version, last_updated, encode(content_hash, 'hex'), deleted, encounter_id, patient_id, summary::text)
			FROM resources ORDER BY type, id`,
		"versions":    `SELECT concat_ws(' ', type, id, version, last_updated, convert_from(raw, 'UTF8')) FROM resource_versions ORDER BY type, id, version`,
		"identifiers": `SELECT concat_ws(' ', type, system, value, id) FROM resource_identifiers ORDER BY 1`,
		"work_items": `SELECT concat_ws(' ', encounter_id, patient_id, class, status, priority, service_start, service_end, version, reason,
				created_at, updated_at, assignee, autocode_version, codes::text, edits::text, chart::text) FROM work_items ORDER BY encounter_id`,
		"history": `SELECT concat_ws(' ', w.encounter_id, h.at, h.actor, h.from_status, h.to_status, h.reason)
			FROM work_item_history h JOIN work_items w ON w.id = h.work_item_id ORDER BY w.encounter_id, h.seq`,
		"outbox_keys": `SELECT concat_ws(' ', key, last_seq) FROM outbox_keys ORDER BY key`,
	}
	for name, q := range queries {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out[name] = append(out[name], s)
		}
		rows.Close()
	}
	rows, err := db.Query(`SELECT o.topic, o.key, o.seq, o.value, o.headers::text, o.state, coalesce(w.id, '') FROM outbox o
		LEFT JOIN work_items w ON 'Encounter/' || w.encounter_id = o.key ORDER BY o.key, o.seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var topic, key, headers, state, itemID string
		var seq int
		var value []byte
		if err := rows.Scan(&topic, &key, &seq, &value, &headers, &state, &itemID); err != nil {
			t.Fatal(err)
		}
		var ev map[string]any
		if err := json.Unmarshal(value, &ev); err != nil {
			t.Fatal(err)
		}
		var h map[string]string
		if err := json.Unmarshal([]byte(headers), &h); err != nil {
			t.Fatal(err)
		}
		if ev["id"] != h["ce_id"] || ev["subject"] != itemID {
			t.Errorf("event %s/%d: id %v (header %s), subject %v (item %s)", key, seq, ev["id"], h["ce_id"], ev["subject"], itemID)
		}
		delete(ev, "id")
		delete(h, "ce_id")
		ev["subject"] = "item of " + key
		if data, ok := ev["data"].(map[string]any); ok && data["workItemId"] == itemID {
			data["workItemId"] = "item of " + key
		}
		e, _ := json.Marshal(ev)
		hb, _ := json.Marshal(h)
		out["outbox"] = append(out["outbox"], fmt.Sprintf("%s %s %d %s %s %s", topic, key, seq, e, hb, state))
	}
	return out
}

// TestFreshPathEligibility: what must take the general transaction does,
// and the one-statement path keeps identifiers (a repeated one once) and
// writes no events without a status topic.
func TestFreshPathEligibility(t *testing.T) {
	ctx := context.Background()
	s := postgres.NewStore(pgtest.New(t), postgres.StoreOptions{}) // no status topic
	parser, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	plan := func(raw []byte) []workitem.ResourceWrite {
		t.Helper()
		b, err := parser.ParseBundle(raw)
		if err != nil {
			t.Fatal(err)
		}
		plans, err := mapping.PlanBundle(b, func() string { n++; return fmt.Sprintf("elig-%d", n) })
		if err != nil {
			t.Fatal(err)
		}
		var ws []workitem.ResourceWrite
		for _, p := range plans {
			ws = append(ws, ingest.WriteFor(*p.Write))
		}
		return ws
	}
	visit := freshBundle(
		"1", "Patient", `"identifier":[{"system":"urn:mrn","value":"E1"},{"system":"urn:mrn","value":"E1"}],"name":[{"family":"Elig"}]`,
		"2", "Encounter", fmt.Sprintf(fbEnc, "finished", "AMB", fbSubject("{1}")),
		"3", "Condition", fmt.Sprintf(fbCond, "J20.9", "{1}", "{2}"))
	ws := plan(visit)
	if ok, err := postgres.PlansFresh(ctx, s, ws); err != nil || !ok {
		t.Fatalf("plain visit: fresh = %v, %v", ok, err)
	}
	for name, change := range map[string]func(w *workitem.ResourceWrite){
		"DELETE":           func(w *workitem.ResourceWrite) { w.Method = "DELETE" },
		"If-None-Exist":    func(w *workitem.ResourceWrite) { w.IfNoneExist = "identifier=urn:mrn|E1" },
		"If-Match":         func(w *workitem.ResourceWrite) { w.IfMatch = 1 },
		"PUT":              func(w *workitem.ResourceWrite) { w.Method = "PUT" },
		"stored patient":   func(w *workitem.ResourceWrite) { w.PatientID = "someone-stored" },
		"stored encounter": func(w *workitem.ResourceWrite) { w.EncounterID = "somewhere-stored" },
	} {
		changed := append([]workitem.ResourceWrite(nil), ws...)
		i := 0
		if name == "stored patient" {
			i = 1 // the Encounter's subject
		}
		if name == "stored encounter" {
			i = 2 // the Condition's encounter
		}
		change(&changed[i])
		if ok, err := postgres.PlansFresh(ctx, s, changed); err != nil || ok {
			t.Errorf("%s: fresh = %v, %v; want the general transaction", name, ok, err)
		}
	}
	keyed := workitem.WithMessageKey(ctx, workitem.MessageKey{Source: "test", ID: "m1"})
	if ok, err := postgres.PlansFresh(keyed, s, ws); err != nil || ok {
		t.Errorf("with an inbound message key: fresh = %v, %v; want the general transaction", ok, err)
	}

	if _, err := s.WriteResources(ctx, "ehr", ws); err != nil {
		t.Fatal(err)
	}
	var idents, items, events int
	if err := s.DB().QueryRow(`SELECT (SELECT count(*) FROM resource_identifiers WHERE value = 'E1'), (SELECT count(*) FROM work_items),
		(SELECT count(*) FROM outbox)`).Scan(&idents, &items, &events); err != nil {
		t.Fatal(err)
	}
	if idents != 1 || items != 1 || events != 0 {
		t.Errorf("identifiers %d, work items %d, events %d; want 1, 1 and none without a status topic", idents, items, events)
	}
}
