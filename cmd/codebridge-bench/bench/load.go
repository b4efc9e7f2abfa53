package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadClient POSTs Bundles to a running codebridge.
type loadClient struct {
	base  string // e.g. http://127.0.0.1:8080
	token string
	http  *http.Client
}

func newLoadClient(base, token string, conns int) *loadClient {
	return &loadClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{
		Timeout:   2 * time.Minute,
		Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute},
	}}
}

// answer is the outcome of one POST.
type answer struct {
	status    string // HTTP status code, or "transport" when no answer came
	detail    string // the start of an error answer, for the report
	locations []string
}

// post sends one Bundle and reads the locations of a transaction-response.
func (c *loadClient) post(ctx context.Context, body []byte) answer {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/fhir", bytes.NewReader(body))
	if err != nil {
		return answer{status: "transport", detail: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{status: "transport", detail: err.Error()}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	a := answer{status: strconv.Itoa(resp.StatusCode)}
	if err != nil {
		return answer{status: "transport", detail: err.Error()}
	}
	if resp.StatusCode != http.StatusOK {
		a.detail = trim(string(raw), 300)
		return a
	}
	var tr struct {
		Entry []struct {
			Response struct {
				Location string `json:"location"`
			} `json:"response"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &tr); err == nil {
		for _, e := range tr.Entry {
			a.locations = append(a.locations, e.Response.Location)
		}
	}
	return a
}

// check makes one authenticated read, so a wrong URL or token fails the run
// before any load is sent.
func (c *loadClient) check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/fhir/metadata", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("bench: %s unreachable: %w", c.base, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: GET %s/fhir/metadata answered %d; check --url and --token (a token with the ehr or admin role)", c.base, resp.StatusCode)
	}
	return nil
}

// encounterID reads "Encounter/{id}/_history/{v}".
func encounterID(location string) string {
	rest, ok := strings.CutPrefix(location, "Encounter/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// tries is how often a Bundle answered 409 (a conflict with a
// concurrent transaction, which the service asks clients to retry) is sent.
const tries = 3

// tally counts what a load phase did; workers add to it concurrently.
type tally struct {
	bundles   atomic.Int64 // sent
	accepted  atomic.Int64
	resources atomic.Int64 // in accepted Bundles
	failed    atomic.Int64

	mu        sync.Mutex
	latencies []time.Duration // of accepted Bundles
	errors    map[string]int
	retries   map[string]int    // retried answers per status
	details   map[string]string // first error answer per status
	kinds     map[string]int    // visits sent per kind
	sent      map[string]sentVisit
}

// sentVisit is an accepted visit, for matching its events.
type sentVisit struct {
	at   time.Time
	kind string
}

func newTally() *tally {
	return &tally{errors: map[string]int{}, retries: map[string]int{}, details: map[string]string{}, kinds: map[string]int{}, sent: map[string]sentVisit{}}
}

func (t *tally) retry(status string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.retries[status]++
}

// add records one POST of v started at start.
func (t *tally) add(v visit, start time.Time, a answer) {
	d := time.Since(start)
	t.bundles.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range v.Kinds {
		t.kinds[k]++
	}
	if a.status != "200" {
		t.failed.Add(1)
		t.errors[a.status]++
		if t.details[a.status] == "" {
			t.details[a.status] = a.detail
		}
		return
	}
	t.accepted.Add(1)
	t.resources.Add(int64(v.Resources))
	t.latencies = append(t.latencies, d)
	for k, idx := range v.Encounters {
		if idx < len(a.locations) {
			if id := encounterID(a.locations[idx]); id != "" {
				t.sent[id] = sentVisit{at: start, kind: v.Kinds[k]}
			}
		}
	}
}

// phase runs workers that each POST Bundles made by make(i), for
// sequence numbers i = 0, 1, 2..., until the deadline (or, when limit > 0,
// until limit resources were sent). Requests in flight at the deadline
// finish and count. It prints a progress line to progress every interval.
type phase struct {
	name     string
	client   *loadClient
	workers  int
	deadline time.Time
	limit    int64
	make     func(i int64) visit
	progress io.Writer
	interval time.Duration
}

// run answers the tally and the elapsed time.
func (p phase) run(ctx context.Context) (*tally, time.Duration) {
	t := newTally()
	var next, queued atomic.Int64
	start := time.Now()
	stop, reported := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(reported)
		p.report(t, start, stop)
	}()
	var wg sync.WaitGroup
	for range p.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && (p.deadline.IsZero() || time.Now().Before(p.deadline)) {
				v := p.make(next.Add(1) - 1)
				if p.limit > 0 && queued.Add(int64(v.Resources))-int64(v.Resources) >= p.limit {
					return
				}
				at := time.Now()
				a := p.client.post(ctx, v.Body)
				for try := 1; a.status == "409" && try < tries; try++ {
					t.retry(a.status)
					a = p.client.post(ctx, v.Body)
				}
				t.add(v, at, a)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stop)
	<-reported // no progress line is written after run returns (the caller writes to the same stream)
	return t, elapsed
}

// report prints a progress line every interval until stop closes.
func (p phase) report(t *tally, start time.Time, stop <-chan struct{}) {
	if p.interval <= 0 || p.progress == nil {
		return
	}
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	var lastRes int64
	last := start
	for {
		select {
		case <-stop:
			return
		case now := <-tick.C:
			res := t.resources.Load()
			rate := float64(res-lastRes) / now.Sub(last).Seconds()
			fmt.Fprintf(p.progress, "%s %5.0fs  bundles %d  resources %d (%.0f/s now)  errors %d\n",
				p.name, now.Sub(start).Seconds(), t.accepted.Load(), res, rate, t.failed.Load())
			lastRes, last = res, now
		}
	}
}

// Latency summarises durations, in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50Ms"`
	P95   float64 `json:"p95Ms"`
	P99   float64 `json:"p99Ms"`
	Max   float64 `json:"maxMs"`
}

// summarize computes nearest-rank percentiles of ds (sorting it).
func summarize(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(ds)))) - 1
		return millis(ds[max(0, min(i, len(ds)-1))])
	}
	return Latency{Count: len(ds), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: millis(ds[len(ds)-1])}
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
