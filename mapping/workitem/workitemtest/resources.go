package workitemtest

import (
	"context"
	"fmt"
	"maps"
	"net/http"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// WriteResources stores ws all or nothing, with the store's version rules:
// a new resource is version 1 (Created); an identical re-send, a
// conditional create that matches and a DELETE of a missing or deleted
// resource are Unchanged; If-Match and If-None-Match * are checked.
// Errors: Precondition (with the entry's index, as the store gives it).
func (s *Store) WriteResources(_ context.Context, actor string, ws []workitem.ResourceWrite) ([]workitem.WriteResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call("WriteResources", "%s, %d", actor, len(ws)); err != nil {
		return nil, err
	}
	next := maps.Clone(s.resources)
	out := make([]workitem.WriteResult, len(ws))
	for i, w := range ws {
		r, err := writeOne(next, w)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		out[i] = r
	}
	s.resources = next
	return out, nil
}

// writeOne applies one write to vs.
func writeOne(vs map[string][]version, w workitem.ResourceWrite) (workitem.WriteResult, error) {
	if w.IfNoneExist != "" {
		if id, found, err := findIn(vs, w.Type, w.IfNoneExist); err != nil || found {
			key := w.Type + "/" + id
			return workitem.WriteResult{StoredResource: current(vs, key).StoredResource, Unchanged: true}, err
		}
	}
	key := w.Type + "/" + w.ID
	cur := current(vs, key)
	found := cur.Version > 0
	switch {
	case w.IfMatch != 0 && cur.Version != w.IfMatch:
		return workitem.WriteResult{}, workitem.Errorf(workitem.Precondition, "%s: If-Match version %d does not match the current version %d", key, w.IfMatch, cur.Version)
	case w.IfNoneMatch && found && !cur.Deleted:
		return workitem.WriteResult{}, workitem.Errorf(workitem.Precondition, "%s: If-None-Match * but the resource exists (version %d)", key, cur.Version)
	case w.Method == http.MethodDelete && (!found || cur.Deleted):
		return workitem.WriteResult{StoredResource: workitem.StoredResource{Type: w.Type, ID: w.ID, Version: cur.Version, Deleted: true}, Unchanged: true}, nil
	case w.Method != http.MethodDelete && found && sameContent(cur, w):
		return workitem.WriteResult{StoredResource: cur.StoredResource, Unchanged: true}, nil
	}
	raw, err := w.Serve(cur.Version+1, Now)
	if err != nil {
		return workitem.WriteResult{}, err
	}
	v := version{StoredResource: workitem.StoredResource{Type: w.Type, ID: w.ID, Version: cur.Version + 1, LastUpdated: Now,
		Raw: raw, Deleted: w.Method == http.MethodDelete}, hash: w.Hash, identifiers: w.Identifiers}
	vs[key] = append(append([]version(nil), vs[key]...), v)
	return workitem.WriteResult{StoredResource: v.StoredResource, Created: !found}, nil
}

// current is the latest version of key; Version 0 when there is none.
func current(vs map[string][]version, key string) version {
	if h := vs[key]; len(h) > 0 {
		return h[len(h)-1]
	}
	return version{}
}

// ReadResource reads the current (version 0) or a given version.
// Errors: NotFound (also for the current version of a deleted resource).
func (s *Store) ReadResource(_ context.Context, typ, id string, v int) (workitem.StoredResource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call("ReadResource", "%s/%s, %d", typ, id, v); err != nil {
		return workitem.StoredResource{}, err
	}
	h := s.resources[typ+"/"+id]
	switch {
	case len(h) == 0:
		return workitem.StoredResource{}, workitem.Errorf(workitem.NotFound, "%s/%s not found", typ, id)
	case v == 0 && h[len(h)-1].Deleted:
		return workitem.StoredResource{}, workitem.Errorf(workitem.NotFound, "%s/%s was deleted", typ, id)
	case v == 0:
		return h[len(h)-1].StoredResource, nil
	case v > len(h):
		return workitem.StoredResource{}, workitem.Errorf(workitem.NotFound, "%s/%s/_history/%d not found", typ, id, v)
	}
	return h[v-1].StoredResource, nil
}

// FindConditional answers the one current resource matching normalised
// If-None-Exist criteria. Errors: Precondition (several match).
func (s *Store) FindConditional(_ context.Context, typ, criteria string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call("FindConditional", "%s, %s", typ, criteria); err != nil {
		return "", false, err
	}
	return findIn(s.resources, typ, criteria)
}

func findIn(vs map[string][]version, typ, criteria string) (string, bool, error) {
	var ids []string
	for _, h := range vs {
		cur := h[len(h)-1]
		if cur.Type == typ && !cur.Deleted && matches(cur, criteria) {
			ids = append(ids, cur.ID)
		}
	}
	switch len(ids) {
	case 0:
		return "", false, nil
	case 1:
		return ids[0], true, nil
	}
	return "", false, workitem.Errorf(workitem.Precondition, "If-None-Exist matches %d %s resources", len(ids), typ)
}
