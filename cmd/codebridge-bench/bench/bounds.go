package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Bound is one upper bound measured on this machine.
type Bound struct {
	What       string  `json:"what"`
	Goroutines int     `json:"goroutines"`
	Seconds    float64 `json:"seconds"`
	Units      int64   `json:"units"` // resources parsed or rows inserted
	PerSecond  float64 `json:"perSecond"`
	// ServiceShare is the service's resources/s over PerSecond.
	ServiceShare float64 `json:"serviceShare"`
	Error        string  `json:"error,omitempty"`
}

// Bounds are the bounds of a run.
type Bounds struct {
	Parse    *Bound `json:"parse,omitempty"`
	Postgres *Bound `json:"postgres,omitempty"`
}

// parseBound runs the validating google/fhir parse alone (fhir.Parser, as
// the service builds it) over bundles on the given number of goroutines for
// d, and answers resources parsed per second.
func parseBound(ctx context.Context, bundles [][]byte, goroutines int, d time.Duration) *Bound {
	b := &Bound{What: "validating FHIR parse (fhir.Parser.ParseBundle) of the same Bundles, no I/O", Goroutines: goroutines}
	p, err := fhir.NewParser()
	if err != nil {
		b.Error = err.Error()
		return b
	}
	var units atomic.Int64
	b.Seconds = spin(ctx, goroutines, d, func(worker, i int) error {
		parsed, err := p.ParseBundle(bundles[(worker+i*goroutines)%len(bundles)])
		if err != nil {
			return err
		}
		units.Add(int64(len(parsed.Entries)))
		return nil
	}, b)
	b.Units = units.Load()
	b.PerSecond = float64(b.Units) / b.Seconds
	return b
}

// spin calls fn(worker, i) on each goroutine until d passed (calls in
// flight finish), and answers the elapsed seconds; the first error stops
// every goroutine and is recorded on b.
func spin(ctx context.Context, goroutines int, d time.Duration, fn func(worker, i int) error, b *Bound) float64 {
	var once sync.Once
	var stop atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for w := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Since(start) < d && ctx.Err() == nil && !stop.Load(); i++ {
				if err := fn(w, i); err != nil {
					once.Do(func() { b.Error = err.Error(); stop.Store(true) })
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start).Seconds()
}

// copyBatch is the rows per COPY (one transaction each) of the
// PostgreSQL bound.
const copyBatch = 500

// resourceRow is a resource row as the store would write it.
type resourceRow struct {
	typ, encounter, patient string
	hash, raw               []byte
	summary                 string
}

// resourceRows prepares the resources of bundles as the service does (parse,
// then mapping.PlanBundle), keeping what the store writes for each.
func resourceRows(bundles [][]byte) ([]resourceRow, error) {
	p, err := fhir.NewParser()
	if err != nil {
		return nil, err
	}
	var rows []resourceRow
	for _, raw := range bundles {
		b, err := p.ParseBundle(raw)
		if err != nil {
			return nil, err
		}
		plans, err := mapping.PlanBundle(b, uuid.NewString)
		if err != nil {
			return nil, err
		}
		for _, pl := range plans {
			if w := pl.Write; w != nil {
				rows = append(rows, resourceRowOf(w))
			}
		}
	}
	return rows, nil
}

func resourceRowOf(w *workitem.ResourceWrite) resourceRow {
	summary := string(w.Summary)
	if summary == "" {
		summary = "{}"
	}
	return resourceRow{typ: w.Type, encounter: w.EncounterID, patient: w.PatientID, hash: w.Hash, raw: w.Raw, summary: summary}
}

// postgresBound inserts the resources of bundles, as rows shaped like the
// store's (type, id, version, last_updated, content hash, encounter,
// patient, summary jsonb, raw bytea; primary key and the store's three
// indexes), into a scratch table of a throwaway schema with COPY, in
// batches of copyBatch rows per transaction on the given number of
// goroutines for d. The schema is dropped at the end.
func postgresBound(ctx context.Context, dbURL string, bundles [][]byte, goroutines int, d time.Duration) *Bound {
	b := &Bound{What: fmt.Sprintf("PostgreSQL COPY of the same resources as store-shaped rows, %d rows per transaction", copyBatch), Goroutines: goroutines}
	rows, err := resourceRows(bundles)
	if err == nil && len(rows) == 0 {
		err = fmt.Errorf("no rows to insert")
	}
	if err != nil {
		b.Error = err.Error()
		return b
	}
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		b.Error = err.Error()
		return b
	}
	defer db.Close()
	db.SetMaxOpenConns(goroutines + 1)
	schema, err := scratchSchema(ctx, db)
	if err != nil {
		b.Error = err.Error()
		return b
	}
	defer func() {
		if _, err := db.ExecContext(context.Background(), `DROP SCHEMA `+pq.QuoteIdentifier(schema)+` CASCADE`); err != nil && b.Error == "" {
			b.Error = "dropping the scratch schema: " + err.Error()
		}
	}()
	var units atomic.Int64
	b.Seconds = spin(ctx, goroutines, d, func(worker, i int) error {
		n, err := copyRows(ctx, db, schema, rows, fmt.Sprintf("w%d-%d-", worker, i), (worker*7919+i)*copyBatch)
		units.Add(int64(n))
		return err
	}, b)
	b.Units = units.Load()
	b.PerSecond = float64(b.Units) / b.Seconds
	return b
}

// scratchSchema creates the throwaway schema and table and answers the
// schema's name.
func scratchSchema(ctx context.Context, db *sql.DB) (string, error) {
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	schema := "codebridge_bench_" + hex.EncodeToString(buf)
	q := pq.QuoteIdentifier(schema)
	stmts := []string{
		`CREATE SCHEMA ` + q,
		`CREATE TABLE ` + q + `.resource_rows (type text NOT NULL, id text NOT NULL, version integer NOT NULL,
			last_updated timestamptz NOT NULL, content_hash bytea NOT NULL, encounter_id text, patient_id text,
			summary jsonb NOT NULL, raw bytea NOT NULL, PRIMARY KEY (type, id, version))`,
		`CREATE INDEX ON ` + q + `.resource_rows (encounter_id) WHERE encounter_id IS NOT NULL`,
		`CREATE INDEX ON ` + q + `.resource_rows (patient_id, type) WHERE patient_id IS NOT NULL`,
		`CREATE INDEX ON ` + q + `.resource_rows (type, last_updated)`,
	}
	for i, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			if i > 0 {
				_, _ = db.ExecContext(context.Background(), `DROP SCHEMA `+q+` CASCADE`)
			}
			return "", fmt.Errorf("creating the scratch schema: %w", err)
		}
	}
	return schema, nil
}

// copyRows copies one batch of rows, from rows[off] on (wrapping), with
// ids made from prefix, in one transaction, and answers the rows committed.
func copyRows(ctx context.Context, db *sql.DB, schema string, rows []resourceRow, prefix string, off int) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	stmt, err := tx.PrepareContext(ctx, pq.CopyInSchema(schema, "resource_rows", "type", "id", "version", "last_updated",
		"content_hash", "encounter_id", "patient_id", "summary", "raw"))
	if err != nil {
		return 0, err
	}
	now := time.Now()
	for k := range copyBatch {
		r := rows[(off+k)%len(rows)]
		if _, err := stmt.ExecContext(ctx, r.typ, prefix+fmt.Sprint(k), 1, now, r.hash,
			nullIfEmpty(r.encounter), nullIfEmpty(r.patient), r.summary, r.raw); err != nil {
			stmt.Close()
			return 0, err
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		stmt.Close()
		return 0, err
	}
	if err := stmt.Close(); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return copyBatch, nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
