package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/codes"
)

// lockedBuffer is a log sink safe for the service's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(l.b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// TestCodeSetCoverageAtStart: on a database with no code set loaded, Start
// logs one WARN per code set naming the release that covers today and the
// command that loads it, and still starts; /readyz stays 200 with the
// warnings in its body; a release loaded by another process while the
// service runs shows on /readyz and /metrics without a restart.
func TestCodeSetCoverageAtStart(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	logs := &lockedBuffer{}
	cfg := config.Default()
	cfg.HTTPAddr, cfg.DatabaseURL, cfg.Tokens, cfg.EmbeddedKafkaAddr, cfg.AutoCode = "127.0.0.1:0", dbURL, e2eTokens, "127.0.0.1:0", false
	m := &Main{Config: cfg, Logger: slog.New(slog.NewJSONHandler(logs, nil))}
	if err := m.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })

	today := facilityToday(time.Now(), nil)
	warned := map[string]map[string]any{}
	for _, l := range logs.lines() {
		if l["msg"] == "no release of a code set covers today" {
			if l["level"] != "WARN" {
				t.Errorf("coverage log at level %v, want WARN", l["level"])
			}
			warned[l["system"].(string)] = l
		}
	}
	if len(warned) != len(codes.SiteSystems) {
		t.Fatalf("start warned for %d code sets, want %d: %v", len(warned), len(codes.SiteSystems), warned)
	}
	cm, _ := codes.ReleaseFor(codes.ICD10CM, today)
	if w := warned["icd10cm"]; w["missing"] != cm.String() || w["hint"] != codes.LoadHint(cm) || w["date"] != today.Format(time.DateOnly) {
		t.Errorf("icd10cm warning = %v, want %s with %q", w, cm, codes.LoadHint(cm))
	}

	// The admin's dashboard names them too.
	wb := newWorkbenchClient(t, m)
	wb.signIn("e2e-admin-token")
	if resp, page := wb.do("GET", "/ui/dashboard", nil); resp.StatusCode != 200 || !strings.Contains(page, `id="codeset-coverage"`) ||
		!strings.Contains(page, "load "+cm.String()+" with <code>"+codes.LoadHint(cm)+"</code>") {
		t.Errorf("admin dashboard = %d, no code-set banner naming %s:\n%s", resp.StatusCode, cm, page)
	}

	code, body := get(t, m, "/readyz", "")
	if code != 200 || !strings.Contains(body, `"warnings":[`) || !strings.Contains(body, "no icd10cm release covers "+today.Format(time.DateOnly)) {
		t.Fatalf("readyz = %d %s; want 200 with the coverage warnings", code, body)
	}

	// Another process loads the ICD-10-CM release of today.
	db, err := postgres.Open(context.Background(), dbURL, postgres.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	order := "00001 J20     0 Acute bronchitis                                             Acute bronchitis\r\n" +
		"00002 J209    1 Acute bronchitis, unspecified                                Acute bronchitis, unspecified\r\n"
	if _, err := postgres.NewCodeStore(db).LoadRelease(context.Background(), cm, strings.NewReader(order), nil); err != nil {
		t.Fatal(err)
	}
	days := int(cm.To.Sub(today).Hours()/24) + 1
	_, body = get(t, m, "/readyz", "")
	if strings.Contains(body, "no icd10cm release covers") || !strings.Contains(body, `"system":"icd10cm","covered":true,"release":"`+cm.Version+`"`) {
		t.Errorf("readyz after loading %s: %s", cm, body)
	}
	_, metrics := get(t, m, "/metrics", "")
	for _, want := range []string{
		`codebridge_codeset_covered{system="icd10cm"} 1`,
		`codebridge_codeset_coverage_days{system="icd10cm"} ` + strconv.Itoa(days),
		`codebridge_codeset_covered{system="icd10pcs"} 0`,
		`codebridge_codeset_coverage_days{system="icd10pcs"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestFacilityToday: today is the facility's civil date: 02:00 UTC on
// October 1 is still September 30 in New York (FY2026, not FY2027).
func TestFacilityToday(t *testing.T) {
	now := time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC)
	ny := time.FixedZone("EDT", -4*3600)
	if got := facilityToday(now, ny); !got.Equal(time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("facilityToday in New York = %s, want 2026-09-30", got)
	}
	if got := facilityToday(now, nil); !got.Equal(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("facilityToday in UTC = %s, want 2026-10-01", got)
	}
	r, _ := codes.ReleaseFor(codes.ICD10CM, facilityToday(now, ny))
	if r.Version != "FY2026" {
		t.Errorf("release for New York's today = %s, want FY2026", r)
	}
}

// TestWorkbenchSearchNote: the workbench's code search says which release
// a date needs and how to load it, both with no release of the system at
// all and with only an earlier one (whose codes it shows).
func TestWorkbenchSearchNote(t *testing.T) {
	store := postgres.NewCodeStore(pgtest.New(t))
	ctx := context.Background()
	hits, note, err := uiCodes{store}.Search(ctx, "cpt", "99213", time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC), 10)
	if err != nil || len(hits) != 0 || note != "no cpt release is loaded; it needs cpt 2027 (2027-01-01..2027-12-31): load it with `codebridge codes load --system cpt --version 2027 FILE`" {
		t.Errorf("CPT search = %v, %q, %v", hits, note, err)
	}
	fy26, _ := codes.NewRelease(codes.ICD10CM, "FY2026")
	order := "00001 J209    1 Acute bronchitis, unspecified                                Acute bronchitis, unspecified\r\n"
	if _, err := store.LoadRelease(ctx, fy26, strings.NewReader(order), nil); err != nil {
		t.Fatal(err)
	}
	hits, note, err = uiCodes{store}.Search(ctx, "icd10cm", "J20.9", time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC), 10)
	if err != nil || len(hits) != 1 || !strings.HasPrefix(note, "no icd10cm release covers 2026-11-15 (it needs icd10cm FY2027 (2026-10-01..2027-09-30): "+
		"load it with `codebridge codes fetch --fy 2027`); showing the newest release loaded, icd10cm FY2026") {
		t.Errorf("ICD-10-CM search on 2026-11-15 = %v, %q, %v", hits, note, err)
	}
}
