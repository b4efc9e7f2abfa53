package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
)

// importNDJSON has a Patient, an Encounter and a Condition for it, an
// Observation (skipped), a blank line, and on line 4 an Encounter whose
// status is not an Encounter status (rejected).
const importNDJSON = `{"resourceType":"Patient","id":"nd-pat","name":[{"family":"Nguyen"}],"gender":"female"}
{"resourceType":"Encounter","id":"nd-enc","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/nd-pat"}}
{"resourceType":"Condition","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]},"subject":{"reference":"Patient/nd-pat"},"encounter":{"reference":"Encounter/nd-enc"}}
{"resourceType":"Encounter","id":"nd-bad","status":"done-and-dusted","class":{"code":"AMB"}}

{"resourceType":"Observation","id":"nd-obs","status":"final","code":{"text":"pulse"}}
`

// importCollection is a collection Bundle: its entries go in as a batch.
const importCollection = `{"resourceType":"Bundle","type":"collection","entry":[
 {"resource":{"resourceType":"Practitioner","id":"coll-pr","name":[{"family":"Osei"}]}},
 {"resource":{"resourceType":"Organization","name":"Clinic"}}]}`

// runImport runs "codebridge import args..." against dbURL.
func runImport(tb testing.TB, dbURL string, args ...string) (stdout, stderr string, err error) {
	tb.Helper()
	var out, errOut bytes.Buffer
	cmd := newRootCmd(func(k string) string {
		if k == "CODEBRIDGE_DATABASE_URL" {
			return dbURL
		}
		return ""
	}, &out, &errOut)
	cmd.SetArgs(append([]string{"import"}, args...))
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func writeFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

func TestImportCommand(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	dir := t.TempDir()
	sample, err := os.ReadFile("samples/telehealth-visit.json")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "telehealth-visit.json"), sample)
	writeFile(t, filepath.Join(dir, "export.ndjson"), []byte(importNDJSON))
	writeFile(t, filepath.Join(dir, "collection.json"), []byte(importCollection))
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte("not FHIR; ignored"))

	out, errOut, err := runImport(t, dbURL, dir)
	badLine := filepath.Join(dir, "export.ndjson") + ":4"
	if err == nil || !strings.Contains(err.Error(), badLine) {
		t.Fatalf("import error = %v, want one naming %s\nstdout: %s", err, badLine, out)
	}
	// telehealth: 9 stored + 1 skipped; NDJSON: 3 stored, 1 skipped, 1 rejected; collection: 2 stored.
	if want := "accepted 14, skipped 2 (types codebridge does not use), rejected 1"; !strings.Contains(out, want) {
		t.Errorf("summary = %q, want %q", out, want)
	}
	if !strings.Contains(out, "rejected "+badLine) {
		t.Errorf("summary does not name the bad line %s: %s", badLine, out)
	}
	if !strings.Contains(errOut, "importing") {
		t.Errorf("no progress bar on stderr: %q", errOut)
	}

	db, err := postgres.Open(context.Background(), dbURL, postgres.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts := []struct {
		query string
		want  int
	}{
		{`SELECT count(*) FROM resources`, 14},
		{`SELECT count(*) FROM resources WHERE type = 'Encounter' AND id = 'nd-enc'`, 1},
		{`SELECT count(*) FROM resources WHERE type = 'Encounter' AND id = 'nd-bad'`, 0},
		{`SELECT count(*) FROM resources WHERE type = 'Practitioner' AND id = 'coll-pr'`, 1},
		{`SELECT count(*) FROM resources WHERE type = 'Condition' AND encounter_id = 'nd-enc'`, 1},
		{`SELECT count(*) FROM work_items`, 2},
		{`SELECT count(*) FROM work_items WHERE status = 'ready'`, 2},
		// Each imported work item announced itself on the default status
		// topic, as a pushed one does (CONTRACT §5).
		{`SELECT count(*) FROM outbox WHERE topic = 'codebridge.workitem.status'`, 2},
	}
	for _, c := range counts {
		var n int
		if err := db.QueryRow(c.query).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		if n != c.want {
			t.Errorf("%s = %d, want %d", c.query, n, c.want)
		}
	}

	// Re-importing the good files changes nothing and succeeds.
	if err := os.Remove(filepath.Join(dir, "export.ndjson")); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runImport(t, dbURL, filepath.Join(dir, "collection.json")); err != nil || !strings.Contains(out, "accepted 2, skipped 0") {
		t.Errorf("re-import = %v: %s", err, out)
	}
}

func TestImportCommandNeedsDatabase(t *testing.T) {
	if _, _, err := runImport(t, "", "x.json"); err == nil || !strings.Contains(err.Error(), "CODEBRIDGE_DATABASE_URL") {
		t.Fatalf("import without a database: %v", err)
	}
}
