package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/kafkapub"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
)

// process is one codebridge serve process started from the test binary.
type process struct {
	base string
	cmd  *exec.Cmd
	log  *bytes.Buffer
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startProcess runs `codebridge serve` as a child process on its own port.
func startProcess(t *testing.T, env []string) *process {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "serve")
	var keep []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "CODEBRIDGE_") {
			keep = append(keep, e)
		}
	}
	cmd.Env = append(append(keep, execMainEnv+"=1", "CODEBRIDGE_HTTP_ADDR="+addr), env...)
	p := &process{base: "http://" + addr, cmd: cmd, log: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
		}
		if t.Failed() {
			t.Logf("process %s log (tail):\n%s", addr, tail(p.log.String(), 3000))
		}
	})
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(p.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("process on %s not ready:\n%s", addr, tail(p.log.String(), 3000))
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// call sends one JSON request and decodes the answer.
func (p *process) call(method, path, token string, body []byte, contentType string) (int, map[string]any, error) {
	req, _ := http.NewRequest(method, p.base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, nil
}

// scaleBundle is encounter i's transaction Bundle: the Patient and its
// Condition are conditional creates (If-None-Exist on identifiers), the
// Encounter an update-as-create, so identical Bundles sent to several
// processes at once must still store each resource once.
func scaleBundle(i int) []byte {
	at := time.Now().UTC().AddDate(0, 0, -60-i).Format(time.RFC3339)
	return fmt.Appendf(nil, `{"resourceType":"Bundle","type":"transaction","entry":[
{"fullUrl":"urn:uuid:00000000-0000-4000-8000-%012d","resource":{"resourceType":"Patient","identifier":[{"system":"urn:scale:mrn","value":"MRN-%d"}],"gender":"female","birthDate":"1970-01-01"},
 "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:scale:mrn|MRN-%d"}},
{"resource":{"resourceType":"Encounter","id":"scale-%d","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
 "subject":{"reference":"urn:uuid:00000000-0000-4000-8000-%012d"},"period":{"start":%q,"end":%q},"serviceProvider":{"reference":"Organization/scale-clinic"}},"request":{"method":"PUT","url":"Encounter/scale-%d"}},
{"resource":{"resourceType":"Condition","identifier":[{"system":"urn:scale:dx","value":"DX-%d"}],"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"encounter-diagnosis"}]}],
 "code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J20.9"}]},"subject":{"reference":"urn:uuid:00000000-0000-4000-8000-%012d"},"encounter":{"reference":"Encounter/scale-%d"}},
 "request":{"method":"POST","url":"Condition","ifNoneExist":"identifier=urn:scale:dx|DX-%d"}}]}`, i, i, i, i, i, at, at, i, i, i, i, i)
}

// TestScaleOutThreeProcesses runs three codebridge processes on one
// PostgreSQL and one broker, ingests through all three at once (every
// Bundle sent to all three concurrently) while six coders work the queue
// through all three, and checks: no duplicate resources, no item leased
// twice, every status event on Kafka, in order per encounter.
func TestScaleOutThreeProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes")
	}
	dbURL := pgtest.NewURL(t)
	broker, err := kafkapub.StartEmbedded("127.0.0.1:0", kafkapub.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(broker.Close)
	db, err := postgres.Open(t.Context(), dbURL, postgres.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := postgres.Migrate(t.Context(), db.DB); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.NewCodeStore(db).LoadBundled(t.Context()); err != nil {
		t.Fatal(err)
	}
	const coders, first, second = 6, 30, 15
	var tokens []string
	for c := range coders {
		tokens = append(tokens, fmt.Sprintf("c%d:coder:scale-coder-%d", c, c))
	}
	env := []string{"CODEBRIDGE_DATABASE_URL=" + dbURL, "CODEBRIDGE_KAFKA_BROKERS=" + broker.Addr(),
		"CODEBRIDGE_API_TOKENS=ehr:ehr:scale-ehr," + strings.Join(tokens, ","), "CODEBRIDGE_AUTOCODE=off",
		"CODEBRIDGE_QA_SAMPLE_RATE=0", "CODEBRIDGE_DB_MAX_OPEN_CONNS=8", "CODEBRIDGE_LOG_LEVEL=warn"}
	var procs []*process
	for range 3 {
		procs = append(procs, startProcess(t, env))
	}

	ingest := func(from, to int) {
		var wg sync.WaitGroup
		for i := from; i < to; i++ {
			for _, p := range procs { // the same Bundle to every process at once
				wg.Add(1)
				go func() {
					defer wg.Done()
					code, out, err := p.call("POST", "/fhir", "scale-ehr", scaleBundle(i), "application/fhir+json")
					if err != nil || code != 200 {
						t.Errorf("bundle %d via %s = %d %v %v", i, p.base, code, err, out)
					}
				}()
			}
			wg.Wait()
		}
	}
	org := []byte(`{"resourceType":"Organization","id":"scale-clinic","name":"Scale Clinic","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}]}`)
	if code, out, err := procs[0].call("PUT", "/fhir/Organization/scale-clinic", "scale-ehr", org, "application/fhir+json"); err != nil || code != 201 {
		t.Fatalf("PUT Organization = %d %v %v", code, err, out)
	}
	ingest(0, first)

	var mu sync.Mutex
	leasedBy := map[string]string{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); ingest(first, first+second) }() // more arrives while coders work
	codes, _ := json.Marshal(coderCodes)
	for c := range coders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := fmt.Sprintf("scale-coder-%d", c)
			deadline := time.Now().Add(3 * time.Minute)
			for n := 0; ; n++ {
				if time.Now().After(deadline) {
					t.Errorf("coder %s: queue not worked off within 3 minutes", tok)
					return
				}
				p := procs[(c+n)%len(procs)]
				code, item, err := p.call("POST", "/api/v1/work-items/next", tok, nil, "")
				if err != nil || (code != 200 && code != 204) {
					t.Errorf("next = %d %v", code, err)
					return
				}
				if code == 204 {
					mu.Lock()
					done := len(leasedBy) == first+second
					mu.Unlock()
					if done {
						return
					}
					time.Sleep(50 * time.Millisecond)
					continue
				}
				id := item["id"].(string)
				mu.Lock()
				if prev, twice := leasedBy[id]; twice {
					t.Errorf("item %s leased to %s and again to %s", id, prev, tok)
				}
				leasedBy[id] = tok
				mu.Unlock()
				p2, p3 := procs[(c+n+1)%len(procs)], procs[(c+n+2)%len(procs)]
				if code, out, err := p2.call("PUT", "/api/v1/work-items/"+id+"/codes", tok, codes, "application/json"); err != nil || code != 200 {
					t.Errorf("PUT codes = %d %v %v", code, err, out)
					return
				}
				if code, out, err := p3.call("POST", "/api/v1/work-items/"+id+"/submit", tok, []byte(`{"acknowledgeWarnings":true}`), "application/json"); err != nil || code != 200 || out["status"] != "completed" {
					t.Errorf("submit = %d %v %v %v", code, err, out["status"], out["edits"])
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		rows, _ := db.Query(`SELECT work_item_id, seq, actor, from_status, to_status, reason, at FROM work_item_history
			WHERE work_item_id IN (SELECT work_item_id FROM work_item_history WHERE to_status = 'in_progress' GROUP BY 1 HAVING count(*) > 1) ORDER BY work_item_id, seq`)
		for rows != nil && rows.Next() {
			var id, actor, from, to, reason string
			var seq int
			var at time.Time
			_ = rows.Scan(&id, &seq, &actor, &from, &to, &reason, &at)
			t.Logf("%s %d %s %s>%s %s %s", id, seq, actor, from, to, reason, at.Format("15:04:05.000"))
		}
		return
	}
	checkScaleOutStore(t, db, first+second)
	checkScaleOutEvents(t, db, broker.Addr())
}

// checkScaleOutStore asserts one resource per identifier, one version per
// identical re-send, one lease per item, every item completed with a Claim.
func checkScaleOutStore(t *testing.T, db *postgres.DB, n int) {
	t.Helper()
	counts := map[string]int{}
	for _, q := range []string{
		`SELECT count(*) FROM resources WHERE type = 'Patient'`,
		`SELECT count(*) FROM resources WHERE type = 'Condition'`,
		`SELECT count(*) FROM resources WHERE type = 'Encounter' AND version = 1`,
		`SELECT count(*) FROM work_items WHERE status = 'completed' AND claim_id <> ''`,
		`SELECT count(DISTINCT work_item_id) FROM work_item_history WHERE to_status = 'in_progress'`,
		`SELECT count(*) FROM work_item_history WHERE to_status = 'in_progress'`,
	} {
		var v int
		if err := db.QueryRow(q).Scan(&v); err != nil {
			t.Fatal(err)
		}
		counts[q] = v
		if v != n {
			t.Errorf("%s = %d, want %d", q, v, n)
		}
	}
}

// checkScaleOutEvents reads the status topic and compares each encounter's
// events (duplicates from at-least-once delivery removed by event id) with
// its recorded history, in order.
func checkScaleOutEvents(t *testing.T, db *postgres.DB, broker string) {
	t.Helper()
	want := map[string][]string{}
	rows, err := db.Query(`SELECT 'Encounter/' || w.encounter_id, h.from_status, h.to_status FROM work_item_history h
		JOIN work_items w ON w.id = h.work_item_id ORDER BY h.seq`)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for rows.Next() {
		var enc, from, to string
		if err := rows.Scan(&enc, &from, &to); err != nil {
			t.Fatal(err)
		}
		want[enc] = append(want[enc], from+">"+to)
		total++
	}
	rows.Close()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: "codebridge.workitem.status",
		GroupID: "scale-check", StartOffset: kafka.FirstOffset, MaxWait: 50 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got, seen := map[string][]string{}, map[string]bool{}
	for n := 0; n < total; {
		msg, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("after %d of %d events: %v", n, total, err)
		}
		var ev cloudEvent
		if err := json.Unmarshal(msg.Value, &ev); err != nil {
			t.Fatal(err)
		}
		if seen[ev.ID] {
			continue
		}
		seen[ev.ID] = true
		if string(msg.Key) != ev.Data.Encounter {
			t.Errorf("event keyed %q for %q", msg.Key, ev.Data.Encounter)
		}
		got[ev.Data.Encounter] = append(got[ev.Data.Encounter], ev.Data.PreviousStatus+">"+ev.Data.Status)
		n++
	}
	for enc, w := range want {
		if fmt.Sprint(got[enc]) != fmt.Sprint(w) {
			t.Errorf("%s events %v, history %v", enc, got[enc], w)
		}
	}
}
