package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// blocker is a handler that records the order handlers started in and
// then waits until released, one release per handler.
type blocker struct {
	mu      sync.Mutex
	started []string
	release chan struct{}
}

func newBlocker() *blocker { return &blocker{release: make(chan struct{})} }

func (b *blocker) handle(c echo.Context) error {
	b.mu.Lock()
	b.started = append(b.started, c.Param("name"))
	b.mu.Unlock()
	select {
	case <-b.release:
	case <-c.Request().Context().Done():
	}
	return c.String(http.StatusOK, c.Param("name"))
}

func (b *blocker) order() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.started...)
}

// admitServer is a server with admission control and a blocking route,
// /api/v1/block/:name (coder token).
func admitServer(t *testing.T, max int, queue time.Duration) (*Server, *prometheus.Registry, *blocker) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s := New(Options{
		Logger:       slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Registry:     reg,
		Auth:         NewAuthenticator(testTokens, false),
		MaxInFlight:  max,
		QueueTimeout: queue,
	})
	b := newBlocker()
	s.API.GET("/block/:name", b.handle)
	s.FHIR.GET("/Thing", func(c echo.Context) error { return c.String(200, "ok") }, Require(workitem.RoleEHR))
	return s, reg, b
}

// metricValue reads a gauge, counter or histogram count from reg (-1 when
// the metric is not registered).
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) == 0 {
			continue
		}
		m := mf.GetMetric()[0]
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// waitFor polls cond until it holds, failing the test after 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// goDo runs a request in the background; its recorder arrives on the
// returned channel.
func goDo(t *testing.T, s *Server, path, token string) <-chan *httptest.ResponseRecorder {
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		s.Echo.ServeHTTP(rec, req)
		done <- rec
	}()
	return done
}

func TestAdmissionQueuesInArrivalOrder(t *testing.T) {
	s, reg, b := admitServer(t, 2, 10*time.Second)
	const coder = "tok-coder-123"
	var done []<-chan *httptest.ResponseRecorder
	// Two requests take both slots.
	for _, n := range []string{"a", "b"} {
		done = append(done, goDo(t, s, "/api/v1/block/"+n, coder))
	}
	waitFor(t, "both slots taken", func() bool { return len(b.order()) == 2 })
	// Five more queue, each after the previous is waiting.
	waiters := []string{"w1", "w2", "w3", "w4", "w5"}
	for i, n := range waiters {
		done = append(done, goDo(t, s, "/api/v1/block/"+n, coder))
		waitFor(t, n+" waiting", func() bool { return metricValue(t, reg, "codebridge_http_admission_waiting") == float64(i+1) })
		time.Sleep(10 * time.Millisecond) // from counted as waiting to queued in the semaphore
	}
	if got := b.order(); len(got) != 2 {
		t.Fatalf("handlers started with both slots taken: %q, want only a and b", got)
	}
	// Each finished request lets exactly the next waiter in.
	for i := range waiters {
		b.release <- struct{}{}
		waitFor(t, waiters[i]+" started", func() bool { return len(b.order()) == 3+i })
		time.Sleep(10 * time.Millisecond)
		if got := b.order(); len(got) != 3+i {
			t.Fatalf("after %d releases %d handlers started (%q), want %d", i+1, len(got), got, 3+i)
		}
	}
	b.release <- struct{}{}
	b.release <- struct{}{}
	for _, d := range done {
		select {
		case rec := <-d:
			if rec.Code != http.StatusOK {
				t.Errorf("queued request = %d %s", rec.Code, rec.Body)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a request never finished")
		}
	}
	got := b.order()
	if first := strings.Join(got[:2], ","); first != "a,b" && first != "b,a" {
		t.Errorf("first two handlers %q, want a and b", got[:2])
	}
	if after := strings.Join(got[2:], ","); after != strings.Join(waiters, ",") {
		t.Errorf("waiters ran in order %s, want arrival order %s", after, strings.Join(waiters, ","))
	}
	if v := metricValue(t, reg, "codebridge_http_admission_waiting"); v != 0 {
		t.Errorf("waiting gauge after the run = %v, want 0", v)
	}
	if v := metricValue(t, reg, "codebridge_http_admission_wait_seconds"); v != 7 {
		t.Errorf("wait histogram count = %v, want 7 (one per admitted request)", v)
	}
	if v := metricValue(t, reg, "codebridge_http_admission_refused_total"); v != 0 {
		t.Errorf("refused = %v, want 0", v)
	}
}

func TestAdmissionQueueTimeout(t *testing.T) {
	s, reg, b := admitServer(t, 1, 100*time.Millisecond)
	hold := goDo(t, s, "/api/v1/block/holder", "tok-coder-123")
	waitFor(t, "the slot taken", func() bool { return len(b.order()) == 1 })

	// FHIR routes answer an OperationOutcome.
	start := time.Now()
	rec := do(t, s, "GET", "/fhir/Thing", "tok-ehr-123", "")
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Errorf("refused after %v, before the queue timeout", waited)
	}
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("/fhir with no slot = %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
		t.Errorf("/fhir 503 content type %q", ct)
	}
	var oo struct {
		ResourceType string
		Issue        []struct{ Severity, Code, Diagnostics string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &oo); err != nil || oo.ResourceType != "OperationOutcome" ||
		len(oo.Issue) != 1 || oo.Issue[0].Code != "transient" || oo.Issue[0].Severity != "error" || !strings.Contains(oo.Issue[0].Diagnostics, "busy") {
		t.Errorf("/fhir 503 body = %s", rec.Body)
	}

	// API routes answer the JSON error.
	rec = do(t, s, "GET", "/api/v1/whoami", "tok-coder-123", "")
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("/api/v1 with no slot = %d, Retry-After %q; want 503 with Retry-After", rec.Code, rec.Header().Get("Retry-After"))
	}
	var ae struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ae); err != nil || ae.Error.Code != "unavailable" || !strings.Contains(ae.Error.Message, "busy") {
		t.Errorf("/api/v1 503 body = %s", rec.Body)
	}
	if v := metricValue(t, reg, "codebridge_http_admission_refused_total"); v != 2 {
		t.Errorf("refused = %v, want 2", v)
	}

	// Once the slot frees, requests run again.
	b.release <- struct{}{}
	if rec := <-hold; rec.Code != http.StatusOK {
		t.Fatalf("holder = %d", rec.Code)
	}
	if rec := do(t, s, "GET", "/api/v1/whoami", "tok-coder-123", ""); rec.Code != http.StatusOK || rec.Header().Get("Retry-After") != "" {
		t.Errorf("whoami with a free slot = %d (Retry-After %q)", rec.Code, rec.Header().Get("Retry-After"))
	}
}

func TestAdmissionExemptPaths(t *testing.T) {
	s, _, b := admitServer(t, 1, 300*time.Millisecond)
	hold := goDo(t, s, "/api/v1/block/holder", "tok-coder-123")
	waitFor(t, "the slot taken", func() bool { return len(b.order()) == 1 })
	defer func() {
		b.release <- struct{}{}
		<-hold
	}()
	tests := []struct {
		path  string
		want  int
		quick bool // answered without waiting for the queue timeout
	}{
		{"/healthz", http.StatusOK, true},
		{"/readyz", http.StatusOK, true},
		{"/metrics", http.StatusOK, true},
		{"/ui/static/app.js", http.StatusNotFound, true}, // not served by this server, but not queued
		{"/api/v1/whoami", http.StatusServiceUnavailable, false},
		{"/healthz/", http.StatusServiceUnavailable, false}, // only the exact paths are exempt
	}
	for _, tt := range tests {
		start := time.Now()
		rec := do(t, s, "GET", tt.path, "tok-coder-123", "")
		took := time.Since(start)
		if rec.Code != tt.want {
			t.Errorf("GET %s with all slots taken = %d, want %d (%s)", tt.path, rec.Code, tt.want, rec.Body)
		}
		if tt.quick && took >= 300*time.Millisecond {
			t.Errorf("GET %s took %v: it waited in the queue", tt.path, took)
		}
	}
}

func TestAdmissionMetricsRegistered(t *testing.T) {
	names := []string{"codebridge_http_admission_waiting", "codebridge_http_admission_wait_seconds", "codebridge_http_admission_refused_total"}
	s, reg, _ := admitServer(t, 4, time.Second)
	for _, n := range names {
		if v := metricValue(t, reg, n); v != 0 {
			t.Errorf("%s = %v on a fresh server, want registered at 0", n, v)
		}
	}
	if rec := do(t, s, "GET", "/api/v1/whoami", "tok-coder-123", ""); rec.Code != http.StatusOK {
		t.Fatalf("whoami = %d", rec.Code)
	}
	if v := metricValue(t, reg, "codebridge_http_admission_wait_seconds"); v != 1 {
		t.Errorf("wait histogram count after one request = %v, want 1", v)
	}
	body := do(t, s, "GET", "/metrics", "", "").Body.String()
	for _, n := range names {
		if !strings.Contains(body, "# TYPE "+n+" ") {
			t.Errorf("/metrics lacks %s", n)
		}
	}
	// Without MaxInFlight there is no admission control and no metrics.
	_, reg, _ = admitServer(t, 0, 0)
	for _, n := range names {
		if v := metricValue(t, reg, n); v != -1 {
			t.Errorf("%s registered without MaxInFlight", n)
		}
	}
}

// slowBody is a request body that hands out its first part at once and the
// rest only when released, like a client on a thin line.
type slowBody struct {
	first   []byte
	rest    []byte
	release chan struct{}
	stage   int
}

func (s *slowBody) Read(p []byte) (int, error) {
	switch s.stage {
	case 0:
		s.stage = 1
		return copy(p, s.first), nil
	case 1:
		<-s.release
		s.stage = 2
		return copy(p, s.rest), nil
	}
	return 0, io.EOF
}

// A client still sending its body does not hold a slot: with one slot, a
// request whose body is half sent does not stop another from being served,
// and it is itself served once its body is complete.
func TestAdmissionSlowBodyHoldsNoSlot(t *testing.T) {
	s, _, _ := admitServer(t, 1, 200*time.Millisecond)
	s.API.POST("/echo", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(http.StatusOK, string(b))
	})
	const coder = "tok-coder-123"
	body := &slowBody{first: []byte(`{"half":`), rest: []byte(`"done"}`), release: make(chan struct{})}
	slow := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		req := httptest.NewRequest("POST", "/api/v1/echo", body)
		req.ContentLength = -1
		req.Header.Set("Authorization", "Bearer "+coder)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.Echo.ServeHTTP(rec, req)
		slow <- rec
	}()
	time.Sleep(50 * time.Millisecond) // the slow request is now reading its body
	req := httptest.NewRequest("GET", "/api/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+coder)
	rec := httptest.NewRecorder()
	s.Echo.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("a request behind a slow sender = %d %s, want 200 (the slow sender must not hold the slot)", rec.Code, rec.Body)
	}
	close(body.release)
	if got := <-slow; got.Code != http.StatusOK || got.Body.String() != `{"half":"done"}` {
		t.Fatalf("slow request = %d %q, want 200 with its whole body", got.Code, got.Body)
	}
}

// A body over the limit is refused with 413 before it queues.
func TestAdmissionBodyOverLimit(t *testing.T) {
	s := New(Options{
		Logger:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Registry:    prometheus.NewRegistry(),
		Auth:        NewAuthenticator(testTokens, false),
		MaxInFlight: 1,
		BodyLimit:   16,
	})
	s.API.POST("/echo", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	req := httptest.NewRequest("POST", "/api/v1/echo", strings.NewReader(strings.Repeat("x", 64)))
	req.ContentLength = -1 // no declared length: the limit trips while reading
	req.Header.Set("Authorization", "Bearer tok-coder-123")
	rec := httptest.NewRecorder()
	s.Echo.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body = %d %s, want 413", rec.Code, rec.Body)
	}
}
