package ingest

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Store is what ingesting needs of the store; *postgres.Store satisfies it.
type Store interface {
	// WriteResources stores ws in one database transaction, all or
	// nothing. Errors: Precondition, Conflict, Invalid, Transient, Internal.
	WriteResources(ctx context.Context, actor string, ws []workitem.ResourceWrite) ([]workitem.WriteResult, error)
	// FindConditional answers the one resource matching normalised
	// If-None-Exist criteria. Errors: Precondition, Invalid, Internal.
	FindConditional(ctx context.Context, typ, criteria string) (id string, found bool, err error)
}

// Service ingests FHIR resources and Bundles. It is safe for concurrent
// use when its Store is.
type Service struct {
	// Parser is the one validating FHIR parser.
	Parser *fhir.Parser
	// Store receives the writes.
	Store Store
	// MaxBundleEntries bounds the entries of one Bundle (TooLarge beyond
	// it); zero means no limit.
	MaxBundleEntries int
}

// Result says what happened to each entry of a Bundle, or to the one
// resource of a single-resource message.
type Result struct {
	// BundleType is how a Bundle was processed: "transaction" or "batch".
	// It is "" for a single resource.
	BundleType string
	// Entries are in Bundle order; a single resource has one, Index 0.
	Entries []Entry
}

// Entry is the outcome of one Bundle entry (or of a single resource).
type Entry struct {
	// Index is the entry's position, as in Bundle.entry[Index].
	Index int
	// Status is 201 (created), 200 (updated, unchanged or skipped) or 204
	// (deleted); 0 when Err is set.
	Status int
	// Type, ID, Version and LastUpdated name the stored version; Type and
	// ID may also be set on a failed or skipped entry when known.
	Type        string
	ID          string
	Version     int
	LastUpdated time.Time
	// Unchanged is true for an identical re-send or a conditional create
	// that matched: no new version was made.
	Unchanged bool
	// Skipped is why the entry was accepted but not stored (a type
	// codebridge does not use); "" otherwise.
	Skipped string
	// Err is why this batch entry failed; nil on success. Transactions and
	// single resources fail as a whole, through the returned error instead.
	Err *workitem.Error
}

// Failed returns the entries whose Err is set.
func (r Result) Failed() []Entry {
	var out []Entry
	for _, e := range r.Entries {
		if e.Err != nil {
			out = append(out, e)
		}
	}
	return out
}

// Bundle ingests a parsed transaction or batch Bundle: a transaction in one
// database transaction (any failure is the returned error and nothing is
// stored), a batch entry by entry (per-entry failures are in the Result).
// Other Bundle types are Invalid; Raw ingests them as batches.
func (s *Service) Bundle(ctx context.Context, actor string, b *fhir.Bundle) (Result, error) {
	return s.bundle(ctx, actor, b, "")
}

// Raw ingests FHIR JSON: a transaction or batch Bundle as sent; any other
// Bundle (collection, searchset, ...) as a batch whose entries PUT Type/id
// when their resource has an id and POST it otherwise; a single resource as
// PUT Type/id when it has an id, else POST with a new id. A single resource
// fails as a whole, through the returned error.
func (s *Service) Raw(ctx context.Context, actor string, raw []byte) (Result, error) {
	return s.raw(ctx, actor, raw, "")
}

// RawSeeded is Raw with replay-safe creates: entries that Raw would POST
// without If-None-Exist are written as update-as-create at ids derived from
// seed and the entry's position. Ingesting the same message with the same
// seed again is therefore a no-op. seed must name the message uniquely
// (e.g. topic, partition, offset and a hash of the value); "" means Raw.
func (s *Service) RawSeeded(ctx context.Context, actor, seed string, raw []byte) (Result, error) {
	return s.raw(ctx, actor, raw, seed)
}

func (s *Service) raw(ctx context.Context, actor string, raw []byte, seed string) (Result, error) {
	if sniffType(raw) != "Bundle" {
		res, err := s.Parser.Parse(raw)
		if err != nil {
			return Result{}, DomainError(err)
		}
		if res.Type != "Bundle" {
			return s.resource(ctx, actor, res, seed)
		}
	}
	b, err := s.Parser.ParseBundle(raw)
	if err != nil {
		return Result{}, DomainError(err)
	}
	if b.Type != "transaction" && b.Type != "batch" {
		asBatch(b)
	}
	return s.bundle(ctx, actor, b, seed)
}

// resource ingests one parsed resource.
func (s *Service) resource(ctx context.Context, actor string, res *fhir.Resource, seed string) (Result, error) {
	if !mapping.IsSupported(res.Type) {
		return Result{Entries: []Entry{{Status: http.StatusOK, Type: res.Type, ID: res.ID,
			Skipped: res.Type + " is not used by codebridge; resource skipped"}}}, nil
	}
	id, method := res.ID, http.MethodPut
	switch {
	case id == "" && seed != "":
		id = SeededID(seed, 0)
	case id == "":
		id, method = uuid.NewString(), http.MethodPost
	}
	w, err := mapping.Prepare(res, id, method)
	if err != nil {
		return Result{}, DomainError(err)
	}
	out, err := s.Store.WriteResources(ctx, actor, []workitem.ResourceWrite{w})
	if err != nil {
		return Result{}, DomainError(err)
	}
	return Result{Entries: []Entry{written(0, out[0], method)}}, nil
}

// raceRetries bounds how often a transaction is planned again after a
// conditional create raced a concurrent commit (workitem.ErrConditionalRace).
const raceRetries = 3

// bundle plans and writes b. A transaction whose conditional create raced
// another request's commit is planned again from the Bundle as received
// (planning rewrote the parsed one's references): the new plan resolves the
// criteria to the committed resource, so every reference in the Bundle
// points at it and an identical Bundle sent to several replicas at once
// stores each resource once.
func (s *Service) bundle(ctx context.Context, actor string, b *fhir.Bundle, seed string) (Result, error) {
	if s.MaxBundleEntries > 0 && len(b.Entries) > s.MaxBundleEntries {
		return Result{}, workitem.Errorf(workitem.TooLarge, "Bundle has %d entries; the limit is %d", len(b.Entries), s.MaxBundleEntries)
	}
	for attempt := 1; ; attempt++ {
		res, err := s.planAndWrite(ctx, actor, b, seed)
		if !errors.Is(err, workitem.ErrConditionalRace) || attempt == raceRetries || len(b.Raw) == 0 {
			return res, err
		}
		again, perr := s.Parser.ParseBundle(b.Raw)
		if perr != nil {
			return res, err
		}
		b = again
	}
}

func (s *Service) planAndWrite(ctx context.Context, actor string, b *fhir.Bundle, seed string) (Result, error) {
	if seed != "" {
		seedCreates(b, seed)
	}
	existing := func(typ, criteria string) (string, bool, error) {
		return s.Store.FindConditional(ctx, typ, criteria)
	}
	plans, err := mapping.PlanBundleWith(b, uuid.NewString, existing)
	if err == nil {
		err = applyIfNoneMatch(b, plans)
	}
	if err != nil {
		return Result{}, DomainError(err)
	}
	res := Result{BundleType: b.Type, Entries: make([]Entry, len(plans))}
	if b.Type == "transaction" {
		if err := s.transaction(ctx, actor, plans, res.Entries); err != nil {
			return Result{}, err
		}
		return res, nil
	}
	s.batch(ctx, actor, plans, res.Entries)
	return res, nil
}

// transaction writes every planned entry in one WriteResources call.
func (s *Service) transaction(ctx context.Context, actor string, plans []mapping.EntryPlan, out []Entry) error {
	var ws []workitem.ResourceWrite
	var at []int
	for i, p := range plans {
		if p.Write == nil {
			out[i] = skipped(p)
			continue
		}
		ws = append(ws, WriteFor(*p.Write))
		at = append(at, i)
	}
	if len(ws) == 0 {
		return nil
	}
	res, err := s.Store.WriteResources(ctx, actor, ws)
	if err != nil {
		return DomainError(err)
	}
	for j, r := range res {
		out[at[j]] = written(at[j], r, ws[j].Method)
	}
	return nil
}

// batch writes each planned entry on its own; failures stay on the entry.
func (s *Service) batch(ctx context.Context, actor string, plans []mapping.EntryPlan, out []Entry) {
	for i, p := range plans {
		switch {
		case p.Err != nil:
			out[i] = failed(i, "", "", p.Err)
		case p.Write == nil:
			out[i] = skipped(p)
		default:
			w := WriteFor(*p.Write)
			res, err := s.Store.WriteResources(ctx, actor, []workitem.ResourceWrite{w})
			if err != nil {
				out[i] = failed(i, w.Type, w.ID, err)
				continue
			}
			out[i] = written(i, res[0], w.Method)
		}
	}
}

func skipped(p mapping.EntryPlan) Entry {
	return Entry{Index: p.Index, Status: http.StatusOK, Skipped: p.Skipped}
}

func written(i int, r workitem.WriteResult, method string) Entry {
	status := http.StatusOK
	switch {
	case method == http.MethodDelete:
		status = http.StatusNoContent
	case r.Created:
		status = http.StatusCreated
	}
	return Entry{Index: i, Status: status, Type: r.Type, ID: r.ID, Version: r.Version,
		LastUpdated: r.LastUpdated, Unchanged: r.Unchanged}
}
