package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
)

// startBenchMain runs Main on 127.0.0.1:0 against a fresh database for a
// benchmark and closes it at the end.
func startBenchMain(tb testing.TB) *Main {
	tb.Helper()
	cfg := config.Default()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.DatabaseURL = pgtest.NewURL(tb)
	cfg.Tokens = e2eTokens
	cfg.EmbeddedKafkaAddr = "127.0.0.1:0"
	m := &Main{Config: cfg, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	if err := m.Start(context.Background()); err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() { _ = m.Close(context.Background()) })
	return m
}

// benchPost POSTs body to path with the EHR token and fails unless the
// status is want; it reports failures with Errorf, so clients running in
// other goroutines may call it.
func benchPost(tb testing.TB, client *http.Client, m *Main, path string, body []byte, want int) {
	req, _ := http.NewRequest("POST", "http://"+m.Addr+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ehrTok)
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := client.Do(req)
	if err != nil {
		tb.Errorf("POST %s: %v", path, err)
		return
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		tb.Errorf("POST %s = %d %s", path, resp.StatusCode, b)
	}
}

// benchBundle is an 8-resource transaction Bundle: a Patient, an Encounter
// and the six resources documenting it, all POSTs linked by urn:uuid.
var benchBundle = func() []byte {
	u := func(n int) string { return fmt.Sprintf("urn:uuid:be000000-0000-4000-8000-%012d", n) }
	ref := func(n int) string { return `{"reference":"` + u(n) + `"}` }
	entry := func(n int, typ, body string) string {
		return `{"fullUrl":"` + u(n) + `","resource":{"resourceType":"` + typ + `",` + body + `},"request":{"method":"POST","url":"` + typ + `"}}`
	}
	cond := func(code string) string {
		return `"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"encounter-diagnosis"}]}],` +
			`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"` + code + `"}]},"subject":` + ref(1) + `,"encounter":` + ref(2)
	}
	proc := func(sys, code string) string {
		return `"status":"completed","code":{"coding":[{"system":"` + sys + `","code":"` + code + `"}]},"subject":` + ref(1) +
			`,"encounter":` + ref(2) + `,"performedDateTime":"2026-03-10T14:00:00Z"`
	}
	entries := []string{
		entry(1, "Patient", `"name":[{"family":"Bench","given":["Mark"]}],"gender":"other","birthDate":"1970-01-01"`),
		entry(2, "Encounter", `"status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"EMER"},"subject":`+ref(1)+
			`,"period":{"start":"2026-03-10T14:00:00Z","end":"2026-03-10T18:00:00Z"}`),
		entry(3, "Condition", cond("R07.9")),
		entry(4, "Condition", cond("I10")),
		entry(5, "Condition", cond("E11.9")),
		entry(6, "Procedure", proc("http://www.ama-assn.org/go/cpt", "99284")),
		entry(7, "Procedure", proc("http://www.ama-assn.org/go/cpt", "93010")),
		entry(8, "DocumentReference", `"status":"current","subject":`+ref(1)+`,"content":[{"attachment":{"contentType":"text/plain","data":"RUQgbm90ZQ=="}}],"context":{"encounter":[`+ref(2)+`]}`),
	}
	return []byte(`{"resourceType":"Bundle","type":"transaction","entry":[` + strings.Join(entries, ",") + `]}`)
}()

// BenchmarkHTTPIngest measures ingestion through the HTTP API of a running
// Main (validation on, PostgreSQL on this machine), in resources per
// second: single creates (POST /fhir/Patient, which touches no work item;
// POST /fhir/Condition, which re-derives the work item of one Encounter
// that accumulates every created Condition) and 8-resource transaction
// Bundles (POST /fhir), each with 1 and 4 concurrent clients.
func BenchmarkHTTPIngest(b *testing.B) {
	m := startBenchMain(b)
	// One Encounter for the single-create Conditions to document, so each
	// create also re-derives a work item, as in production.
	benchPost(b, http.DefaultClient, m, "/fhir", benchBundle, 200)
	var encID, patID string
	if err := m.DB.QueryRow(`SELECT id, patient_id FROM resources WHERE type = 'Encounter' LIMIT 1`).Scan(&encID, &patID); err != nil {
		b.Fatal(err)
	}
	condition := []byte(`{"resourceType":"Condition","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"encounter-diagnosis"}]}],` +
		`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J20.9"}]},"subject":{"reference":"Patient/` + patID + `"},"encounter":{"reference":"Encounter/` + encID + `"}}`)
	cases := []struct {
		name      string
		path      string
		body      []byte
		want      int
		resources int
	}{
		{"create-patient", "/fhir/Patient", []byte(patientJSON), 201, 1},
		{"create-condition", "/fhir/Condition", condition, 201, 1},
		{"bundle8", "/fhir", benchBundle, 200, 8},
	}
	for _, c := range cases {
		for _, clients := range []int{1, 4, 8} {
			b.Run(fmt.Sprintf("%s/clients=%d", c.name, clients), func(b *testing.B) {
				client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
				runClients(b, clients, func() { benchPost(b, client, m, c.path, c.body, c.want) })
				b.ReportMetric(float64(b.N*c.resources)/b.Elapsed().Seconds(), "resources/s")
			})
		}
	}
}

// runClients calls do b.N times in total from the given number of
// concurrent clients, timing only the calls.
func runClients(b *testing.B, clients int, do func()) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				do()
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
}
