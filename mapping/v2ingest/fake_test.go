package v2ingest

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// fakeStore keeps the current version of each resource and the recorded
// message keys in memory, with the store's rules the use case relies on:
// an identical re-send is a no-op, If-Match fails with Precondition, a
// call is all or nothing, and a write under a recorded message key fails
// with ErrDuplicateMessage (same content) or ErrMessageIDReused. It exists
// for the use case's own logic; the real store is exercised end to end in
// cmd/codebridge.
type fakeStore struct {
	mu        sync.Mutex
	cur       map[string]fakeVersion        // "Type/id"
	keys      map[string][]byte             // "source|id" -> content hash
	withdrawn map[string]bool               // "Type/id" deleted through FHIR
	fail      error                         // every call fails with it when set
	writes    int                           // WriteResources calls
	hook      func(controlID string, n int) // before each write under a key, n counting them from 1
}

type fakeVersion struct {
	version int
	hash    []byte
	raw     []byte
}

func newFakeStore() *fakeStore {
	return &fakeStore{cur: map[string]fakeVersion{}, keys: map[string][]byte{}, withdrawn: map[string]bool{}}
}

func (f *fakeStore) WriteResources(ctx context.Context, _ string, ws []workitem.ResourceWrite) ([]workitem.WriteResult, error) {
	k, keyed := workitem.MessageKeyFrom(ctx)
	f.mu.Lock()
	f.writes++
	n, hook := f.writes, f.hook
	f.mu.Unlock()
	if keyed && hook != nil {
		hook(k.ID, n) // outside the lock: a hook may park, or write itself
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	if err := f.checkKey(k, keyed); err != nil {
		return nil, err
	}
	next := maps.Clone(f.cur)
	out := make([]workitem.WriteResult, len(ws))
	for i, w := range ws {
		r, err := write(next, w)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		out[i] = r
	}
	f.cur = next
	if keyed {
		f.keys[k.Source+"|"+k.ID] = k.Hash
	}
	return out, nil
}

// checkKey refuses a write under a message key recorded before.
func (f *fakeStore) checkKey(k workitem.MessageKey, keyed bool) error {
	prev, seen := f.keys[k.Source+"|"+k.ID]
	switch {
	case !keyed || !seen:
		return nil
	case prev == nil || k.Hash == nil || bytes.Equal(prev, k.Hash):
		return &workitem.Error{Kind: workitem.Conflict, Err: workitem.ErrDuplicateMessage, Message: "inbound message already processed"}
	}
	return &workitem.Error{Kind: workitem.Conflict, Err: workitem.ErrMessageIDReused, Message: "inbound message id already used for a different message"}
}

// fakeNow is the time of every version the fake stores.
var fakeNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// write applies one PUT to next.
func write(next map[string]fakeVersion, w workitem.ResourceWrite) (workitem.WriteResult, error) {
	key := w.Type + "/" + w.ID
	c, found := next[key]
	if w.IfMatch != 0 && (!found || c.version != w.IfMatch) {
		return workitem.WriteResult{}, workitem.Errorf(workitem.Precondition, "%s: If-Match %d, current %d", key, w.IfMatch, c.version)
	}
	if w.IfNoneMatch && found {
		return workitem.WriteResult{}, workitem.Errorf(workitem.Precondition, "%s: If-None-Match *, current %d", key, c.version)
	}
	stored := workitem.StoredResource{Type: w.Type, ID: w.ID, Version: c.version, LastUpdated: fakeNow, Raw: c.raw}
	if found && bytes.Equal(c.hash, w.Hash) {
		return workitem.WriteResult{StoredResource: stored, Unchanged: true}, nil
	}
	raw, err := w.Serve(c.version+1, fakeNow)
	if err != nil {
		return workitem.WriteResult{}, err
	}
	next[key] = fakeVersion{version: c.version + 1, hash: w.Hash, raw: raw}
	stored.Version, stored.Raw = c.version+1, raw
	return workitem.WriteResult{StoredResource: stored, Created: c.version == 0}, nil
}

func (f *fakeStore) FindConditional(context.Context, string, string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return "", false, f.fail
}

func (f *fakeStore) ReadResource(_ context.Context, typ, id string, version int) (workitem.StoredResource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return workitem.StoredResource{}, f.fail
	}
	c, ok := f.cur[typ+"/"+id]
	if !ok || (version != 0 && version != c.version) {
		return workitem.StoredResource{}, workitem.Errorf(workitem.NotFound, "%s/%s not found", typ, id)
	}
	return workitem.StoredResource{Type: typ, ID: id, Version: c.version, LastUpdated: fakeNow, Raw: c.raw}, nil
}

func (f *fakeStore) MessageProcessed(_ context.Context, k workitem.MessageKey) (seen, sameContent bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return false, false, f.fail
	}
	prev, seen := f.keys[k.Source+"|"+k.ID]
	return seen, seen && (prev == nil || k.Hash == nil || bytes.Equal(prev, k.Hash)), nil
}

func (f *fakeStore) Withdrawn(_ context.Context, typ, id string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.withdrawn[typ+"/"+id], f.fail
}

// version returns the current version of Type/id (0 when absent) and its
// JSON.
func (f *fakeStore) version(typ, id string) (int, []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.cur[typ+"/"+id]
	return c.version, c.raw
}

// count returns how many resources of typ are stored.
func (f *fakeStore) count(typ string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k := range f.cur {
		if strings.HasPrefix(k, typ+"/") {
			n++
		}
	}
	return n
}

// recorded reports whether a message id was recorded (any source).
func (f *fakeStore) recorded(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for k := range f.keys {
		if strings.HasSuffix(k, "|"+id) {
			n++
		}
	}
	return n
}
