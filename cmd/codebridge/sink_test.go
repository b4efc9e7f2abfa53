package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
)

// fakeSink is a downstream FHIR server that honours If-None-Exist by
// remembering the identifiers it created. fail, while > 0, answers that
// many requests with failStatus first; failStatus with fail < 0 fails
// every request.
type fakeSink struct {
	mu         sync.Mutex
	fail       int
	failStatus int
	created    map[string]int // identifier -> successful creates
	updates    []string       // identifier search of each successful PUT
	ifNoneSeen []string
	auth       string
	bodies     []string // bodies of successful creates
}

func (f *fakeSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	f.auth = r.Header.Get("Authorization")
	if f.fail != 0 {
		if f.fail > 0 {
			f.fail--
		}
		w.WriteHeader(f.failStatus)
		return
	}
	switch {
	case r.Method == "POST" && r.URL.Path == "/fhir/Claim":
		q, _ := url.ParseQuery(r.Header.Get("If-None-Exist"))
		id := q.Get("identifier")
		f.ifNoneSeen = append(f.ifNoneSeen, id)
		if f.created[id] > 0 {
			w.WriteHeader(http.StatusOK)
			return
		}
		f.created[id]++
		f.bodies = append(f.bodies, string(body))
		w.WriteHeader(http.StatusCreated)
	case r.Method == "PUT" && r.URL.Path == "/fhir/Claim":
		f.updates = append(f.updates, r.URL.Query().Get("identifier"))
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// snapshot returns the sink's state under its lock.
func (f *fakeSink) snapshot() (created map[string]int, updates, ifNone []string, auth string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	created = map[string]int{}
	for k, v := range f.created {
		created[k] = v
	}
	return created, append([]string(nil), f.updates...), append([]string(nil), f.ifNoneSeen...), f.auth
}

// startSinkMain runs Main delivering Claims to a fakeSink, with retry
// timing shortened, the code sets loaded and the sample ingested.
func startSinkMain(t *testing.T, sink *fakeSink) *Main {
	t.Helper()
	base, poll := claimSinkRetryBase, claimSinkPoll
	claimSinkRetryBase, claimSinkPoll = 20*time.Millisecond, 20*time.Millisecond
	t.Cleanup(func() { claimSinkRetryBase, claimSinkPoll = base, poll })
	srv := httptest.NewServer(sink)
	t.Cleanup(srv.Close)
	m := startMain(t, pgtest.NewURLWithBundledCodes(t), func(c *config.Config) {
		c.ClaimSinkURL = srv.URL + "/fhir"
		c.ClaimSinkToken = "sink-token"
		c.QASampleRate = 0
	})
	if r := send(t, m, "POST", "/fhir", sample(t)); r.code != 200 {
		t.Fatalf("ingest = %d %s", r.code, r.body)
	}
	return m
}

// waitFor polls cond for up to 15 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestClaimDeliveredOnceDespiteRetries(t *testing.T) {
	sink := &fakeSink{fail: 2, failStatus: http.StatusServiceUnavailable, created: map[string]int{}}
	m := startSinkMain(t, sink)
	item := codeAndSubmit(t, m)
	waitFor(t, "the Claim create", func() bool { c, _, _, _ := sink.snapshot(); return len(c) > 0 })
	time.Sleep(200 * time.Millisecond) // room for a duplicate, were there one
	created, _, ifNone, auth := sink.snapshot()
	var wantID string
	for id := range created {
		wantID = id
	}
	if len(created) != 1 || created[wantID] != 1 || !strings.HasPrefix(wantID, fmt.Sprintf("urn:codebridge:claim|%s-v", item["id"])) {
		t.Errorf("creates = %v, want exactly one of the item's Claim", created)
	}
	if len(ifNone) != 1 || ifNone[0] != wantID {
		t.Errorf("If-None-Exist identifiers = %v, want [%s]", ifNone, wantID)
	}
	if auth != "Bearer sink-token" {
		t.Errorf("Authorization = %q", auth)
	}
	// The sink does not hold codebridge's resources: references are logical.
	sink.mu.Lock()
	body := sink.bodies[0]
	sink.mu.Unlock()
	if strings.Contains(body, `"reference"`) || !strings.Contains(body, `"system":"urn:codebridge:Coverage"`) {
		t.Errorf("Claim sent downstream still has literal references: %s", body)
	}
	for _, want := range []string{`"patient":{"identifier":{"system":"urn:oid:2.16.840.1.113883.3.999.1","value":"MRN-100234"},"type":"Patient"}`,
		`"value":"1234567893"`} {
		if !strings.Contains(body, want) {
			t.Errorf("Claim sent downstream lacks %s", want)
		}
	}
	// Withdrawing the Encounter cancels the Claim: a conditional update.
	enc := item["encounter"].(map[string]any)["reference"].(string)
	if r := send(t, m, "DELETE", "/fhir/"+enc, nil); r.code != 204 {
		t.Fatalf("delete encounter = %d", r.code)
	}
	waitFor(t, "the cancellation", func() bool { _, u, _, _ := sink.snapshot(); return len(u) > 0 })
	if _, u, _, _ := sink.snapshot(); len(u) != 1 || u[0] != wantID {
		t.Errorf("updates = %v, want [%s]", u, wantID)
	}
	if _, body := get(t, m, "/metrics", ""); !strings.Contains(body, "codebridge_claim_sink_delivered_total 2") ||
		!strings.Contains(body, "codebridge_claim_sink_failed_total 2") {
		t.Errorf("metrics lack the claim-sink counters")
	}
}

func TestClaimDeliveryDeadAndReplayed(t *testing.T) {
	sink := &fakeSink{fail: -1, failStatus: http.StatusBadRequest, created: map[string]int{}}
	m := startSinkMain(t, sink)
	codeAndSubmit(t, m)
	var dead []any
	waitFor(t, "a dead delivery", func() bool {
		code, body := apiCall(t, m, "GET", "/api/v1/admin/claim-deliveries/dead", "e2e-admin-token")
		dead, _ = body["dead"].([]any)
		return code == 200 && len(dead) == 1
	})
	d := dead[0].(map[string]any)
	if d["lastError"] != "claim sink: HTTP 400 Bad Request" || d["attempts"] != 1.0 || d["version"] != 1.0 {
		t.Errorf("dead delivery = %v, want one 400 attempt at version 1", d)
	}
	if code, _ := apiCall(t, m, "GET", "/api/v1/admin/claim-deliveries/dead", "e2e-coder-token"); code != 403 {
		t.Errorf("coder listing dead deliveries = %d, want 403", code)
	}
	sink.mu.Lock()
	sink.fail = 0
	sink.mu.Unlock()
	path := fmt.Sprintf("/api/v1/admin/claim-deliveries/dead/%.0f/replay", d["id"])
	if code, body := apiCall(t, m, "POST", path, "e2e-admin-token"); code != 200 {
		t.Fatalf("replay = %d %v", code, body)
	}
	waitFor(t, "the replayed create", func() bool { c, _, _, _ := sink.snapshot(); return len(c) == 1 })
	if _, body := apiCall(t, m, "GET", "/api/v1/admin/claim-deliveries/dead", "e2e-admin-token"); len(body["dead"].([]any)) != 0 {
		t.Errorf("dead after replay = %v", body["dead"])
	}
	if code, _ := apiCall(t, m, "POST", path, "e2e-admin-token"); code != 404 {
		t.Errorf("replaying a delivered row = %d, want 404", code)
	}
}
