package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// fakeStore keeps the current version of each resource in memory, with
// the store's version rules (identical re-send = no-op, If-Match,
// If-None-Match *, all or nothing per call). It exists for the use case's
// own logic; the real store is exercised end to end in cmd/codebridge.
type fakeStore struct {
	mu     sync.Mutex
	cur    map[string]fakeVersion // "Type/id"
	cond   map[string]string      // "Type?criteria" -> id
	fail   error                  // every call fails with it when set
	calls  int                    // WriteResources calls
	actors []string
	writes []workitem.ResourceWrite // every write received, in order
}

type fakeVersion struct {
	version int
	hash    []byte
	deleted bool
	raw     []byte
}

// fakeNow is the time of every version the fake stores.
var fakeNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newFakeStore() *fakeStore {
	return &fakeStore{cur: map[string]fakeVersion{}, cond: map[string]string{}}
}

func (f *fakeStore) WriteResources(_ context.Context, actor string, ws []workitem.ResourceWrite) ([]workitem.WriteResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.actors = append(f.actors, actor)
	f.writes = append(f.writes, ws...)
	if f.fail != nil {
		return nil, f.fail
	}
	next := maps.Clone(f.cur)
	out := make([]workitem.WriteResult, len(ws))
	at := fakeNow
	for i, w := range ws {
		key := w.Type + "/" + w.ID
		c, found := next[key]
		if w.IfMatch != 0 && (!found || c.version != w.IfMatch) {
			return nil, fmt.Errorf("entry %d: %w", i, workitem.Errorf(workitem.Precondition, "%s: If-Match %d, current %d", key, w.IfMatch, c.version))
		}
		if w.IfNoneMatch && found && !c.deleted {
			return nil, fmt.Errorf("entry %d: %w", i, workitem.Errorf(workitem.Precondition, "%s: If-None-Match *, current %d", key, c.version))
		}
		del := w.Method == "DELETE"
		stored := workitem.StoredResource{Type: w.Type, ID: w.ID, Version: c.version, LastUpdated: at}
		if (found && !del && !c.deleted && bytes.Equal(c.hash, w.Hash)) || (del && (!found || c.deleted)) {
			out[i] = workitem.WriteResult{StoredResource: stored, Unchanged: true}
			continue
		}
		raw, err := w.Serve(c.version+1, at)
		if err != nil {
			return nil, err
		}
		next[key] = fakeVersion{version: c.version + 1, hash: w.Hash, deleted: del, raw: raw}
		stored.Version, stored.Raw, stored.Deleted = c.version+1, raw, del
		out[i] = workitem.WriteResult{StoredResource: stored, Created: c.version == 0}
	}
	f.cur = next
	return out, nil
}

func (f *fakeStore) FindConditional(_ context.Context, typ, criteria string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", false, f.fail
	}
	id, ok := f.cond[typ+"?"+criteria]
	return id, ok, nil
}

// versions returns "Type/id" -> current version.
func (f *fakeStore) versions() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.cur {
		out[k] = v.version
	}
	return out
}
