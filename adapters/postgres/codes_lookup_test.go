package postgres_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/codes"
)

// orderLine is one record of an ICD-10 order file (fixed width).
type orderLine struct {
	code     string
	billable bool
	title    string
}

// orderFile renders records in the CMS order-file layout.
func orderFile(lines ...orderLine) []byte {
	var b strings.Builder
	for i, l := range lines {
		flag := 0
		if l.billable {
			flag = 1
		}
		fmt.Fprintf(&b, "%05d %-7s %d %-60s %s\r\n", i+1, l.code, flag, l.title, l.title)
	}
	return []byte(b.String())
}

func loadICD(t *testing.T, s *postgres.CodeStore, version string, data []byte) {
	t.Helper()
	rel, err := codes.NewRelease(codes.ICD10CM, version)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadRelease(context.Background(), rel, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
}

// TestCodeLookupCache shows code lookups answered from the cache keyed by
// release: a row deleted behind the store's back is still answered, while
// a newly loaded release (or one replaced under its version) is answered
// from its own rows.
func TestCodeLookupCache(t *testing.T) {
	db := pgtest.New(t)
	s := postgres.NewCodeStore(db)
	ctx := context.Background()
	fy25, fy26 := ymd(2025, 9, 15), ymd(2025, 11, 14)
	loadICD(t, s, "FY2025", readFile(t, "icd10cm_order_2025_extract.txt"))

	want := func(t *testing.T, e codes.Entry, err error, version string, billable bool, wantErr error) {
		t.Helper()
		if (wantErr == nil) != (err == nil) || (wantErr != nil && !errors.Is(err, wantErr)) {
			t.Fatalf("error = %v, want %v", err, wantErr)
		}
		if e.Release.Version != version || e.Billable != billable {
			t.Fatalf("entry = %s billable=%v from %q, want billable=%v from %q", e.Code, e.Billable, e.Release.Version, billable, version)
		}
	}

	e, err := s.Code(ctx, codes.ICD10CM, "B88.0", fy25)
	want(t, e, err, "FY2025", true, nil)
	if _, err := db.ExecContext(ctx, `DELETE FROM code_entries WHERE system = 'icd10cm' AND code = 'B880'`); err != nil {
		t.Fatal(err)
	}
	// The row is gone: a store with a cold cache finds nothing...
	if _, err := postgres.NewCodeStore(db).Code(ctx, codes.ICD10CM, "B88.0", fy25); !errors.Is(err, codes.ErrNotFound) {
		t.Fatalf("cold store after the delete: %v, want ErrNotFound", err)
	}
	// ...while the warm one still answers from memory.
	e, err = s.Code(ctx, codes.ICD10CM, "B88.0", fy25)
	want(t, e, err, "FY2025", true, nil)
	if e.Short != "Other acariasis" {
		t.Errorf("cached entry title %q", e.Short)
	}

	// Before FY2026 is loaded, A00.0 on a FY2026 date has no release.
	if _, err := s.Code(ctx, codes.ICD10CM, "A00.0", fy26); !errors.Is(err, codes.ErrNoRelease) {
		t.Fatalf("A00.0 before FY2026 is loaded: %v, want ErrNoRelease", err)
	}
	// FY2026 (another window): B88.0 becomes a header, A00.0 is dropped.
	loadICD(t, s, "FY2026", orderFile(
		orderLine{"B88", false, "Other infestations"},
		orderLine{"B880", false, "Other acariasis"},
		orderLine{"B8801", true, "Infestation by Demodex mites"},
		orderLine{"J209", true, "Acute bronchitis, unspecified"},
	))
	e, err = s.Code(ctx, codes.ICD10CM, "B88.0", fy26)
	want(t, e, err, "FY2026", false, nil)
	e, err = s.Code(ctx, codes.ICD10CM, "B88.01", fy26)
	want(t, e, err, "FY2026", true, nil)
	// The FY2025 answer is unchanged (still the cached one).
	e, err = s.Code(ctx, codes.ICD10CM, "B88.0", fy25)
	want(t, e, err, "FY2025", true, nil)
	// A00.0 is not in FY2026: the newest release that has it answers.
	e, err = s.Code(ctx, codes.ICD10CM, "A00.0", fy26)
	want(t, e, err, "FY2025", true, codes.ErrNotInForce)

	// That answer depends on the other releases: a later release with the
	// code changes it (the release list's generation is part of its key).
	loadICD(t, s, "FY2027", orderFile(orderLine{"A000", true, "Cholera due to Vibrio cholerae 01, biovar cholerae"}))
	e, err = s.Code(ctx, codes.ICD10CM, "A00.0", fy26)
	want(t, e, err, "FY2027", true, codes.ErrNotInForce)

	// A release reloaded with other content gets a new id: its answers are
	// read afresh, not taken from the cache of the old content.
	loadICD(t, s, "FY2025", orderFile(
		orderLine{"B88", false, "Other infestations"},
		orderLine{"B880", false, "Other acariasis (revised)"},
		orderLine{"J209", true, "Acute bronchitis, unspecified"},
	))
	e, err = s.Code(ctx, codes.ICD10CM, "B88.0", fy25)
	want(t, e, err, "FY2025", false, nil)
	if e.Short != "Other acariasis (revised)" {
		t.Errorf("reloaded entry title %q, want the new content", e.Short)
	}
}

// TestCodeLookupOnCallerTransaction: with a pool of one connection held by
// a transaction, lookups through OnTx run on that transaction instead of
// waiting for a second connection, and share the store's caches.
func TestCodeLookupOnCallerTransaction(t *testing.T) {
	url := pgtest.NewURL(t)
	ctx := context.Background()
	db, err := postgres.Open(ctx, url, postgres.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	loadICD(t, postgres.NewCodeStore(db), "FY2025", readFile(t, "icd10cm_order_2025_extract.txt"))

	s := postgres.NewCodeStore(db) // cold: the release list and the entry are both read on the transaction
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var e codes.Entry
	err = db.Transact(tctx, nil, func(tx *sql.Tx) error {
		var lerr error
		e, lerr = s.OnTx(tx).Code(tctx, codes.ICD10CM, "J20.9", ymd(2025, 9, 15))
		if lerr != nil {
			return lerr
		}
		// The pool-side lookup shares the cache: with the only connection
		// held here, it can answer only from what the transaction cached.
		if c, lerr := s.Code(tctx, codes.ICD10CM, "J20.9", ymd(2025, 9, 15)); lerr != nil || c != e {
			return fmt.Errorf("pool lookup of a code cached on the transaction = %+v, %v; want %+v from the cache", c, lerr, e)
		}
		// The transaction's own writes are visible to the lookup.
		if _, err := tx.ExecContext(tctx, `UPDATE code_entries SET short_title = 'changed in tx' WHERE code = 'B880'`); err != nil {
			return err
		}
		b, lerr := s.OnTx(tx).Code(tctx, codes.ICD10CM, "B88.0", ymd(2025, 9, 15))
		if lerr == nil && b.Short != "changed in tx" {
			lerr = fmt.Errorf("lookup on the transaction saw %q, not its own update", b.Short)
		}
		return lerr
	})
	if err != nil {
		t.Fatalf("lookup inside a transaction on a 1-connection pool: %v", err)
	}
	if e.Code != "J209" || !e.Billable || e.Release.Version != "FY2025" {
		t.Errorf("entry = %+v", e)
	}
}
