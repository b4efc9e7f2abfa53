package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
)

// browserSuite finds node, the suite's node_modules and Chromium. It skips
// the test, loudly, when one is missing, except under CI=true where that
// is a failure.
func browserSuite(t *testing.T) (node, dir, chromium string) {
	t.Helper()
	dir, _ = filepath.Abs("../../adapters/webui/e2e")
	chromium = "/usr/bin/chromium"
	missing := func(what string) {
		msg := "BROWSER E2E NOT RUN: " + what + " (apt-get install -y chromium; cd adapters/webui/e2e && npm ci)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := os.Stat(chromium); err != nil {
		missing("no " + chromium)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("no node")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		missing("no " + filepath.Join(dir, "node_modules"))
	}
	return node, dir, chromium
}

// TestWorkbenchE2E runs the browser suite (adapters/webui/e2e/run.mjs:
// playwright-core driving Debian's Chromium, axe-core on every screen)
// against codebridge with the sample charts, then checks in the database
// what the browser did. Screenshots go to CODEBRIDGE_E2E_SCREENSHOTS when
// set (make e2e: adapters/webui/screenshots).
func TestWorkbenchE2E(t *testing.T) {
	node, dir, chromium := browserSuite(t)
	dbURL := pgtest.NewURL(t)
	m := startMain(t, dbURL, workbenchConfig)
	loadWorkbenchCodes(t, m)
	ids := workbenchCharts(t, m)
	short := startMain(t, dbURL, workbenchConfig, func(c *config.Config) { c.UIIdleTimeout = 30 * time.Second })

	tokens, _ := json.Marshal(map[string]string{"coder": "wb-alice-token", "coder2": "wb-bob-token-1",
		"auditor": "wb-audrey-token", "ehr": ehrTok})
	patients, _ := json.Marshal([]string{"Ana Rivera", "Rivera", "Chidi Okafor", "Maja Lindqvist", "Samir Haddad"})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "run.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CB_URL=http://"+m.Addr, "CB_SHORT_URL=http://"+short.Addr, "CB_TOKENS="+string(tokens),
		"CB_PATIENTS="+string(patients), "CB_CHROMIUM="+chromium, "CB_SCREENSHOTS="+os.Getenv("CODEBRIDGE_E2E_SCREENSHOTS"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, testWriter{t}), io.MultiWriter(&out, testWriter{t})
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("browser suite failed after %s: %v", time.Since(start).Round(time.Second), err)
	}
	t.Logf("browser suite: %s", time.Since(start).Round(time.Second))
	checkWorkbenchOutcome(t, m, ids)
}

// checkWorkbenchOutcome checks in the database what the browser suite did.
func checkWorkbenchOutcome(t *testing.T, m *Main, ids map[string]string) {
	t.Helper()
	type state struct {
		Status  string
		Claimed bool
	}
	got := map[string]state{}
	for class, id := range ids {
		var s state
		if err := m.DB.QueryRow(`SELECT status, claim_id <> '' FROM work_items WHERE id = $1`, id).Scan(&s.Status, &s.Claimed); err != nil {
			t.Fatal(err)
		}
		got[class] = s
	}
	want := map[string]state{
		"VR":   {"completed", true},    // coded by keyboard, submitted
		"AMB":  {"in_progress", false}, // queried, answered, taken again
		"IMP":  {"completed", true},    // coded, then reviewed with a change
		"EMER": {"in_progress", false}, // the idle scenario's draft
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("work items after the browser suite: mismatch (-want +got):\n%s", diff)
	}
	var accurate bool
	var poa int
	if err := m.DB.QueryRow(`SELECT accurate, poa_changed FROM qa_reviews WHERE work_item_id = $1`, ids["IMP"]).Scan(&accurate, &poa); err != nil || accurate || poa != 1 {
		t.Errorf("QA record of the auditor's change: accurate=%v poa_changed=%d err=%v; want false, 1", accurate, poa, err)
	}
	// The idle scenario's units "2x" stay in the draft only: the stored
	// codes keep the line as it last read (one unit), never without it.
	var codes string
	if err := m.DB.QueryRow(`SELECT coalesce(codes::text, '') FROM work_items WHERE id = $1`, ids["EMER"]).Scan(&codes); err != nil ||
		!strings.Contains(codes, "R07.9") || !strings.Contains(codes, `"code": "93010", "units": 1`) {
		t.Errorf("codes of the idle scenario's chart = %s (%v); want R07.9 and the 93010 line with its last valid units", codes, err)
	}
	if n := count(t, m, `SELECT count(*) FROM work_item_queries WHERE work_item_id = $1 AND status = 'answered'`, ids["AMB"]); n != 1 {
		t.Errorf("%d answered queries on the office visit, want 1", n)
	}
}

// testWriter sends a subprocess's output to the test log line by line.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
