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
	store := postgres.NewStore(db)
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
	key := workitem.MessageKey{Source: "hl7v2:APP^FAC", ID: "MSG0001"}
	ctx := workitem.WithMessageKey(context.Background(), key)
	if seen, err := store.MessageProcessed(ctx, key); err != nil || seen {
		t.Fatalf("MessageProcessed before = %v, %v", seen, err)
	}
	if err := write(ctx, "First"); err != nil {
		t.Fatal(err)
	}
	// The same message again, even with other content: refused, nothing written.
	err = write(ctx, "Changed")
	var de *workitem.Error
	if !errors.Is(err, workitem.ErrDuplicateMessage) || !errors.As(err, &de) || de.Kind != workitem.Conflict {
		t.Fatalf("second write = %v, want ErrDuplicateMessage (Conflict)", err)
	}
	if seen, err := store.MessageProcessed(ctx, key); err != nil || !seen {
		t.Fatalf("MessageProcessed after = %v, %v", seen, err)
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
	if seen, _ := store.MessageProcessed(context.Background(), workitem.MessageKey{Source: key.Source, ID: "MSG0003"}); seen {
		t.Error("a failed write recorded its message key")
	}
}
