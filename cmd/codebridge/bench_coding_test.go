package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
)

// seedQueue inserts n ready work items straight into PostgreSQL (one
// statement), each with a minimal telehealth chart dated inside FY2026.
func seedQueue(tb testing.TB, m *Main, n int) {
	tb.Helper()
	chart := `{"chart":{"encounter":{"reference":"Encounter/x","status":"finished","class":"AMB","start":"2026-03-10T14:00:00Z"},` +
		`"patientSummary":{"reference":"Patient/p","gender":"female","birthDate":"1971-04-12"}},"sources":{}}`
	// The auto-coder has looked at each item already (autocode_version =
	// version) and left it for a coder, as it does within moments of an
	// item becoming ready; without this, the auto-coder's workers would spend
	// the whole benchmark re-examining the 100,000 seeded items at the head
	// of the very queue the coders lease from.
	_, err := m.DB.Exec(`INSERT INTO work_items (id, encounter_id, patient_id, class, status, priority, service_start, chart, created_at,
		autocode_version, autocode_note)
		SELECT 'wi-' || g, 'enc-' || g, 'pat-' || g, 'AMB', 'ready', 100 + (g % 300), '2026-03-10T14:00:00Z',
		       $2::jsonb, now() - (g || ' seconds')::interval, 1, 'not coded straight through: no suggested codes'
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
	for _, think := range []time.Duration{0, 250 * time.Millisecond, time.Second} {
		b.Run("think="+think.String(), func(b *testing.B) { benchCoderDay(b, think) })
	}
}

func benchCoderDay(b *testing.B, think time.Duration) {
	const coders = 50
	m := startMain(b, pgtest.NewURLWithBundledCodes(b), func(c *config.Config) {
		c.Tokens = coderTokens(coders)
		c.QASampleRate = 0
		c.DBMaxOpenConns = 40
	})
	seedQueue(b, m, 100_000)
	codes, _ := json.Marshal(map[string]any{"diagnoses": []any{map[string]any{"code": "J20.9"}},
		"lines": []any{map[string]any{"code": "99213", "modifiers": []string{"95"}, "units": 1, "diagnoses": []int{1}}}})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: coders}}
	// Think times vary ±50% around think, and coders start at random offsets
	// within one think time: people do not click in lockstep, and a
	// synchronised start would measure one burst of 50 simultaneous calls.
	pause := func() {
		if think > 0 {
			time.Sleep(think/2 + rand.N(think))
		}
	}
	call := func(method, path, tok string, body []byte) (int, []byte, time.Duration) {
		pause()
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
	// cycle is one chart: lease it, save codes twice, submit.
	cycle := func(tok string) (next time.Duration, puts []time.Duration, ok bool) {
		code, body, d := call("POST", "/api/v1/work-items/next", tok, nil)
		if code != 200 {
			b.Errorf("next = %d", code)
			return 0, nil, false
		}
		var it struct{ ID string }
		_ = json.Unmarshal(body, &it)
		for k := 0; k < 2; k++ {
			code, _, d2 := call("PUT", "/api/v1/work-items/"+it.ID+"/codes", tok, codes)
			if code != 200 {
				b.Errorf("PUT codes = %d", code)
			}
			puts = append(puts, d2)
		}
		if code, out, _ := call("POST", "/api/v1/work-items/"+it.ID+"/submit", tok, []byte(`{"acknowledgeWarnings":true}`)); code != 200 {
			b.Errorf("submit = %d %s", code, out)
		}
		return d, puts, true
	}
	// Warm-up, not measured: every coder works two charts, so the pool's
	// connections are open and have prepared their statements and the
	// code-set cache holds the codes used. A server that has been up for
	// minutes is in this state; the first seconds after a start are not
	// what a coder's day is made of.
	var wg sync.WaitGroup
	for c := 0; c < coders; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for range 2 {
				if _, _, ok := cycle(fmt.Sprintf("coder-token-%02d", c)); !ok {
					return
				}
			}
		}(c)
	}
	wg.Wait()
	// Loading the code sets and seeding write ~1 GB of WAL, enough to force a
	// max_wal_size checkpoint (and its burst of writes) in the measured
	// window, which this workload alone (a few MB a second) would not. A
	// superuser checkpoints here, so the window starts where a production
	// server is right after one of its timed checkpoints: every page's first
	// change writes a full-page image, the costly end of the cycle. Without
	// the privilege the error is ignored and the run measures as is.
	_, _ = m.DB.Exec(`CHECKPOINT`)
	var mu sync.Mutex
	var nexts, puts []time.Duration
	before := m.DB.Stats()
	b.ResetTimer()
	start := time.Now()
	per := max(1, b.N/coders)
	for c := 0; c < coders; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			if think > 0 {
				time.Sleep(rand.N(think))
			}
			tok := fmt.Sprintf("coder-token-%02d", c)
			for i := 0; i < per; i++ {
				d, pd, ok := cycle(tok)
				if !ok {
					return
				}
				mu.Lock()
				nexts, puts = append(nexts, d), append(puts, pd...)
				mu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(len(nexts))/time.Since(start).Seconds(), "charts/s")
	b.ReportMetric(percentile(nexts, 0.5), "next-p50-ms")
	b.ReportMetric(percentile(nexts, 0.99), "next-p99-ms")
	b.ReportMetric(percentile(puts, 0.5), "put-p50-ms")
	b.ReportMetric(percentile(puts, 0.99), "put-p99-ms")
	after := m.DB.Stats()
	calls := float64(len(nexts) + len(puts)*3/2)
	b.ReportMetric(float64(after.WaitCount-before.WaitCount)/calls, "pool-waits/call")
	b.ReportMetric(float64((after.WaitDuration-before.WaitDuration).Microseconds())/1000/calls, "pool-wait-ms/call")
}
