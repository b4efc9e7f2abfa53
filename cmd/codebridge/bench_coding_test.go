package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
)

// seedQueue inserts n ready work items straight into PostgreSQL (one
// statement), each with a minimal telehealth chart dated inside FY2026.
func seedQueue(tb testing.TB, m *Main, n int) {
	tb.Helper()
	chart := `{"chart":{"encounter":{"reference":"Encounter/x","status":"finished","class":"AMB","start":"2026-03-10T14:00:00Z"},` +
		`"patientSummary":{"reference":"Patient/p","gender":"female","birthDate":"1971-04-12"}},"sources":{}}`
	_, err := m.DB.Exec(`INSERT INTO work_items (id, encounter_id, patient_id, class, status, priority, service_start, chart, created_at)
		SELECT 'wi-' || g, 'enc-' || g, 'pat-' || g, 'AMB', 'ready', 100 + (g % 300), '2026-03-10T14:00:00Z',
		       $2::jsonb, now() - (g || ' seconds')::interval
		  FROM generate_series(1, $1) AS g`, n, chart)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := m.DB.Exec(`ANALYZE work_items`); err != nil {
		tb.Fatal(err)
	}
}

func percentile(ds []time.Duration, p float64) float64 {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	if len(ds) == 0 {
		return 0
	}
	return float64(ds[int(float64(len(ds)-1)*p)].Microseconds()) / 1000
}

// BenchmarkCoderDay measures, with 50 concurrent coders over a queue of
// 100,000 ready items, the latency of POST /work-items/next and of
// PUT /work-items/{id}/codes (edits checked against the bundled code sets).
// Each coder leases, saves codes twice, and submits, so leases are released.
// think=0 is a closed loop (every coder fires as fast as answers come: the
// machine's saturation); think=250ms paces each coder between actions, still
// far busier than people at desks.
func BenchmarkCoderDay(b *testing.B) {
	for _, think := range []time.Duration{0, 250 * time.Millisecond} {
		b.Run("think="+think.String(), func(b *testing.B) { benchCoderDay(b, think) })
	}
}

func benchCoderDay(b *testing.B, think time.Duration) {
	const coders = 50
	m := startMain(b, pgtest.NewURL(b), func(c *config.Config) {
		c.Tokens = coderTokens(coders)
		c.QASampleRate = 0
		c.DBMaxOpenConns = 40
	})
	if _, err := postgres.NewCodeStore(m.DB).LoadBundled(b.Context()); err != nil {
		b.Fatal(err)
	}
	seedQueue(b, m, 100_000)
	codes, _ := json.Marshal(map[string]any{"diagnoses": []any{map[string]any{"code": "J20.9"}},
		"lines": []any{map[string]any{"code": "99213", "modifiers": []string{"95"}, "units": 1, "diagnoses": []int{1}}}})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: coders}}
	call := func(method, path, tok string, body []byte) (int, []byte, time.Duration) {
		time.Sleep(think)
		req, _ := http.NewRequest(method, "http://"+m.Addr+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return 0, nil, 0
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out, time.Since(start)
	}
	var mu sync.Mutex
	var nexts, puts []time.Duration
	before := m.DB.Stats()
	b.ResetTimer()
	var wg sync.WaitGroup
	per := max(1, b.N/coders)
	for c := 0; c < coders; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			tok := fmt.Sprintf("coder-token-%02d", c)
			for i := 0; i < per; i++ {
				code, body, d := call("POST", "/api/v1/work-items/next", tok, nil)
				if code != 200 {
					b.Errorf("next = %d", code)
					return
				}
				var it struct{ ID string }
				_ = json.Unmarshal(body, &it)
				var pd []time.Duration
				for k := 0; k < 2; k++ {
					code, _, d2 := call("PUT", "/api/v1/work-items/"+it.ID+"/codes", tok, codes)
					if code != 200 {
						b.Errorf("PUT codes = %d", code)
					}
					pd = append(pd, d2)
				}
				if code, out, _ := call("POST", "/api/v1/work-items/"+it.ID+"/submit", tok, []byte(`{"acknowledgeWarnings":true}`)); code != 200 {
					b.Errorf("submit = %d %s", code, out)
				}
				mu.Lock()
				nexts, puts = append(nexts, d), append(puts, pd...)
				mu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(percentile(nexts, 0.5), "next-p50-ms")
	b.ReportMetric(percentile(nexts, 0.99), "next-p99-ms")
	b.ReportMetric(percentile(puts, 0.5), "put-p50-ms")
	b.ReportMetric(percentile(puts, 0.99), "put-p99-ms")
	after := m.DB.Stats()
	calls := float64(len(nexts) + len(puts)*3/2)
	b.ReportMetric(float64(after.WaitCount-before.WaitCount)/calls, "pool-waits/call")
	b.ReportMetric(float64((after.WaitDuration-before.WaitDuration).Microseconds())/1000/calls, "pool-wait-ms/call")
}
