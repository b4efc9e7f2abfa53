package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

func TestMessageKeyAppliesOnce(t *testing.T) {
	db := pgtest.New(t)
	store := postgres.NewStore(db, postgres.StoreOptions{})
	parser, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	write := func(ctx context.Context, family string) error {
		res, err := parser.Parse([]byte(`{"resourceType":"Patient","id":"p1","name":[{"family":"` + family + `"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		w, err := mapping.Prepare(res, "p1", "PUT")
		if err != nil {
			t.Fatal(err)
		}
		_, err = store.WriteResources(ctx, "hl7", []workitem.ResourceWrite{w})
		return err
	}
	key := workitem.MessageKey{Source: "hl7v2:APP^FAC", ID: "MSG0001", Hash: []byte("hash-of-message-1")}
	ctx := workitem.WithMessageKey(context.Background(), key)
	if seen, _, err := store.MessageProcessed(ctx, key); err != nil || seen {
		t.Fatalf("MessageProcessed before = %v, %v", seen, err)
	}
	if err := write(ctx, "First"); err != nil {
		t.Fatal(err)
	}
	// The same message again (same hash): refused as a duplicate, nothing written.
	err = write(ctx, "First")
	var de *workitem.Error
	if !errors.Is(err, workitem.ErrDuplicateMessage) || !errors.As(err, &de) || de.Kind != workitem.Conflict {
		t.Fatalf("re-send = %v, want ErrDuplicateMessage (Conflict)", err)
	}
	if seen, same, err := store.MessageProcessed(ctx, key); err != nil || !seen || !same {
		t.Fatalf("MessageProcessed after = %v, %v, %v; want seen, same content", seen, same, err)
	}
	// The same id with other content: refused as a re-used id, nothing written.
	reused := key
	reused.Hash = []byte("hash-of-another-message")
	err = write(workitem.WithMessageKey(context.Background(), reused), "Changed")
	if !errors.Is(err, workitem.ErrMessageIDReused) || errors.Is(err, workitem.ErrDuplicateMessage) || workitem.KindOf(err) != workitem.Conflict {
		t.Fatalf("re-used id = %v, want ErrMessageIDReused (Conflict)", err)
	}
	if seen, same, err := store.MessageProcessed(ctx, reused); err != nil || !seen || same {
		t.Fatalf("MessageProcessed(re-used) = %v, %v, %v; want seen, other content", seen, same, err)
	}
	// A key without a hash (a caller that has none) matches whatever was recorded.
	if seen, same, err := store.MessageProcessed(ctx, workitem.MessageKey{Source: key.Source, ID: key.ID}); err != nil || !seen || !same {
		t.Fatalf("MessageProcessed(no hash) = %v, %v, %v; want seen, same", seen, same, err)
	}
	var versions int
	if err := db.QueryRow(`SELECT count(*) FROM resource_versions WHERE type = 'Patient' AND id = 'p1'`).Scan(&versions); err != nil || versions != 1 {
		t.Fatalf("versions = %d, %v; want 1", versions, err)
	}
	// Another message id from the same sender is applied; a failed write
	// records nothing, so its retry is applied too.
	next := workitem.WithMessageKey(context.Background(), workitem.MessageKey{Source: key.Source, ID: "MSG0002"})
	if err := write(next, "Second"); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(workitem.WithMessageKey(context.Background(), workitem.MessageKey{Source: key.Source, ID: "MSG0003"}))
	cancel()
	if err := write(cancelled, "Third"); err == nil {
		t.Fatal("write with a cancelled context succeeded")
	}
	if seen, _, _ := store.MessageProcessed(context.Background(), workitem.MessageKey{Source: key.Source, ID: "MSG0003"}); seen {
		t.Error("a failed write recorded its message key")
	}
}

// TestMessageKeyRowsWithoutHash: keys recorded before migration 00016 have
// no content hash; a message under such a key counts as a re-send.
func TestMessageKeyRowsWithoutHash(t *testing.T) {
	db := pgtest.New(t)
	store := postgres.NewStore(db, postgres.StoreOptions{})
	if _, err := db.Exec(`INSERT INTO inbound_messages (source, message_id) VALUES ('hl7v2:APP^FAC', 'OLD1')`); err != nil {
		t.Fatal(err)
	}
	key := workitem.MessageKey{Source: "hl7v2:APP^FAC", ID: "OLD1", Hash: []byte("any")}
	if seen, same, err := store.MessageProcessed(context.Background(), key); err != nil || !seen || !same {
		t.Fatalf("MessageProcessed = %v, %v, %v; want seen, same", seen, same, err)
	}
	_, err := store.WriteResources(workitem.WithMessageKey(context.Background(), key), "hl7", nil)
	if !errors.Is(err, workitem.ErrDuplicateMessage) {
		t.Fatalf("write under an old key = %v, want ErrDuplicateMessage", err)
	}
}

// TestIfNoneMatchCreatesOnly: a PUT with If-None-Match * creates, or fails
// with Precondition when the resource exists; a deleted one may be created
// again. Two such creates at once: one wins, the other fails.
func TestIfNoneMatchCreatesOnly(t *testing.T) {
	db := pgtest.New(t)
	store := postgres.NewStore(db, postgres.StoreOptions{})
	parser, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	put := func(family, method string, ifNoneMatch bool, ifMatch int) error {
		res, err := parser.Parse([]byte(`{"resourceType":"Patient","id":"p1","name":[{"family":"` + family + `"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		w, err := mapping.Prepare(res, "p1", method)
		if err != nil {
			t.Fatal(err)
		}
		w.IfNoneMatch, w.IfMatch = ifNoneMatch, ifMatch
		_, err = store.WriteResources(context.Background(), "t", []workitem.ResourceWrite{w})
		return err
	}
	if err := put("A", "PUT", true, 0); err != nil {
		t.Fatalf("create-only PUT of a new resource: %v", err)
	}
	for _, family := range []string{"A", "B"} { // identical or not, it exists
		if err := put(family, "PUT", true, 0); workitem.KindOf(err) != workitem.Precondition {
			t.Errorf("create-only PUT (%s) of an existing resource = %v, want Precondition", family, err)
		}
	}
	if err := put("B", "PUT", false, 2); workitem.KindOf(err) != workitem.Precondition {
		t.Errorf("If-Match 2 on version 1 = %v, want Precondition", err)
	}
	if err := put("B", "PUT", false, 1); err != nil {
		t.Errorf("If-Match 1 on version 1 = %v", err)
	}
	if err := put("", "DELETE", false, 0); err != nil {
		t.Fatal(err)
	}
	if err := put("C", "PUT", true, 0); err != nil {
		t.Errorf("create-only PUT of a deleted resource = %v, want it created again", err)
	}
	var version int
	if err := db.QueryRow(`SELECT version FROM resources WHERE type = 'Patient' AND id = 'p1'`).Scan(&version); err != nil || version != 4 {
		t.Errorf("version = %d, %v; want 4 (create, update, delete, create)", version, err)
	}
	// Concurrent creates of one new id: exactly one succeeds.
	errs := make(chan error, 2)
	for _, family := range []string{"X", "Y"} {
		go func() {
			res, _ := parser.Parse([]byte(`{"resourceType":"Patient","id":"p2","name":[{"family":"` + family + `"}]}`))
			w, _ := mapping.Prepare(res, "p2", "PUT")
			w.IfNoneMatch = true
			_, err := store.WriteResources(context.Background(), "t", []workitem.ResourceWrite{w})
			errs <- err
		}()
	}
	var ok, lost int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			ok++
		case workitem.KindOf(err) == workitem.Precondition:
			lost++
		default:
			t.Errorf("concurrent create-only PUT: %v", err)
		}
	}
	if ok != 1 || lost != 1 {
		t.Errorf("concurrent create-only PUTs: %d created, %d failed; want 1 and 1", ok, lost)
	}
}
