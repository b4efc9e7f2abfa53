package postgres_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Data the database can never take is Unprocessable (a sender must not
// retry it forever), not an internal fault.
func TestWriteRefusedDataIsUnprocessable(t *testing.T) {
	db := pgtest.New(t)
	store := postgres.NewStore(db, postgres.StoreOptions{})
	parser, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	// An identifier far beyond a btree index row's limit (~2.7 kB).
	// Pseudo-random, so compression cannot shrink it under the limit.
	var sb strings.Builder
	for x := uint32(1); sb.Len() < 9000; {
		x = x*1664525 + 1013904223
		sb.WriteString(strconv.FormatUint(uint64(x), 36))
	}
	huge := sb.String()
	res, err := parser.Parse([]byte(`{"resourceType":"Patient","id":"big","identifier":[{"system":"urn:mrn","value":"` + huge + `"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	w, err := mapping.Prepare(res, "big", "PUT")
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.WriteResources(context.Background(), "test", []workitem.ResourceWrite{w})
	var de *workitem.Error
	if !errors.As(err, &de) || de.Kind != workitem.Unprocessable {
		t.Fatalf("WriteResources = %v, want Unprocessable", err)
	}
	if strings.Contains(err.Error(), huge[:50]) {
		t.Error("error echoes the data")
	}
}
