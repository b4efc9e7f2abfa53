package workitemtest

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// PutItem stores it (replacing any item of the same id) with its history.
// A zero Version is stored as 1.
func (s *Store) PutItem(it workitem.Item, history ...workitem.Transition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if it.Version == 0 {
		it.Version = 1
	}
	s.items[it.ID] = &itemRecord{item: it, history: history}
}

// item returns the record of id; s.mu is held. Errors: NotFound.
func (s *Store) item(id string) (*itemRecord, error) {
	r, ok := s.items[id]
	if !ok {
		return nil, workitem.Errorf(workitem.NotFound, "work item %s not found", id)
	}
	return r, nil
}

// move records a change of r by actor: the new status (a transition when
// it differs) and the next version.
func (r *itemRecord) move(actor string, to workitem.Status) {
	if to != r.item.Status {
		r.history = append(r.history, workitem.Transition{At: Now, Actor: actor, From: r.item.Status, To: to})
		r.item.Status = to
	}
	r.item.Version++
	r.item.UpdatedAt = Now
}

// ListItems answers the items matching f's status, assignee, encounter,
// class and straight-through decision, by priority (highest first) then id; Limit (default 50) a page,
// the cursor being the offset of the next. Errors: Invalid (cursor).
func (s *Store) ListItems(_ context.Context, f workitem.Filter) ([]workitem.Item, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call("ListItems", "%+v", f); err != nil {
		return nil, "", err
	}
	var all []workitem.Item
	for _, r := range s.items {
		it := r.item
		if (len(f.Status) == 0 || slices.Contains(f.Status, it.Status)) && (f.Assignee == "" || f.Assignee == it.Assignee) &&
			(f.Encounter == "" || "Encounter/"+f.Encounter == it.Encounter) && (f.Class == "" || f.Class == it.Class) &&
			(f.AutoCode == "" || it.AutoCode != nil && it.AutoCode.Decision == f.AutoCode) {
			all = append(all, it)
		}
	}
	slices.SortFunc(all, byPriority)
	return page(all, f.Cursor, f.Limit)
}

func byPriority(a, b workitem.Item) int {
	return cmp.Or(cmp.Compare(b.Priority, a.Priority), cmp.Compare(a.ID, b.ID))
}

// GetItem answers an item with its history. Errors: NotFound.
func (s *Store) GetItem(_ context.Context, id string) (workitem.Item, []workitem.Transition, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call("GetItem", "%s", id); err != nil {
		return workitem.Item{}, nil, err
	}
	r, err := s.item(id)
	if err != nil {
		return workitem.Item{}, nil, err
	}
	return r.item, slices.Clone(r.history), nil
}

// LeaseNextChart leases the top ready item to coder for d: in_progress,
// assigned, with a lease expiry. ok=false when none is ready or coder
// holds max leases already.
func (s *Store) LeaseNextChart(_ context.Context, coder string, max int, d time.Duration) (workitem.Item, []workitem.Transition, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call("LeaseNextChart", "%s, max=%d, lease=%s", coder, max, d); err != nil {
		return workitem.Item{}, nil, false, err
	}
	var ready []workitem.Item
	held := 0
	for _, r := range s.items {
		switch {
		case r.item.Status == workitem.Ready:
			ready = append(ready, r.item)
		case r.item.Status == workitem.InProgress && r.item.Assignee == coder:
			held++
		}
	}
	if len(ready) == 0 || (max > 0 && held >= max) {
		return workitem.Item{}, nil, false, nil
	}
	slices.SortFunc(ready, byPriority)
	r := s.items[ready[0].ID]
	exp := Now.Add(d)
	r.item.Assignee, r.item.LeaseExpires = coder, &exp
	r.move(coder, workitem.InProgress)
	return r.item, slices.Clone(r.history), true, nil
}

// SaveCodes replaces the item's codes and bumps its version; the checker
// (SetChecker), when set, gives the edits kept on the item. Errors: NotFound, Precondition
// (ifVersion not current), Forbidden or Conflict (workitem.MayCode), or
// what SetErr injects.
func (s *Store) SaveCodes(ctx context.Context, id string, a workitem.Actor, ifVersion int, as workitem.Assignment, lease time.Duration) ([]workitem.Edit, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call("SaveCodes", "%s, %s, ifVersion=%d, lease=%s", id, a.Name, ifVersion, lease); err != nil {
		return nil, err
	}
	r, err := s.item(id)
	if err != nil {
		return nil, err
	}
	if ifVersion != 0 && ifVersion != r.item.Version {
		return nil, workitem.Errorf(workitem.Precondition, "work item %s: If-Match version %d, current %d", id, ifVersion, r.item.Version)
	}
	if err := workitem.MayCode(r.item, a); err != nil {
		return nil, err
	}
	var edits []workitem.Edit
	if s.check != nil {
		if edits, err = s.check(ctx, nil, r.item.Chart, as); err != nil {
			return nil, err
		}
	}
	r.item.Codes, r.item.Edits = &as, edits
	r.move(a.Name, r.item.Status)
	return edits, nil
}

// Submit codes the item under the domain's rules (who may submit,
// refusal while edits stand) and routes it on as the store does
// (workitem.RouteCoded with the default institutional classes; the QA
// sample draw is Draw): to in_review, or to completed. Unlike the store it
// issues no Claim. Errors: NotFound, Forbidden, Conflict, Unprocessable,
// or what SetErr injects.
func (s *Store) Submit(_ context.Context, id string, a workitem.Actor, o workitem.SubmitOptions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call("Submit", "%s, %s, ack=%t, qa=%g", id, a.Name, o.AcknowledgeWarnings, o.QASampleRate); err != nil {
		return err
	}
	r, err := s.item(id)
	if err != nil {
		return err
	}
	if err := workitem.MaySubmit(r.item, a); err != nil {
		return err
	}
	ndx := 0
	if r.item.Codes != nil {
		ndx = len(r.item.Codes.Diagnoses)
	}
	if err := workitem.RefuseOnEdits(r.item.Edits, o.AcknowledgeWarnings, ndx); err != nil {
		return err
	}
	r.move(a.Name, workitem.Coded)
	r.move(a.Name, workitem.RouteCoded(r.item.Class, nil, o.QASampleRate, s.draw))
	return nil
}

// OpenQuery records an open query (ids q1, q2, ... per item) and puts the
// item on hold, for whom workitem.MayOpenQuery allows. Errors: NotFound,
// Forbidden, Conflict.
func (s *Store) OpenQuery(_ context.Context, id string, a workitem.Actor, q workitem.Query) (workitem.Query, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call("OpenQuery", "%s, %s", id, a.Name); err != nil {
		return workitem.Query{}, err
	}
	r, err := s.item(id)
	if err != nil {
		return workitem.Query{}, err
	}
	if err := workitem.MayOpenQuery(r.item, a); err != nil {
		return workitem.Query{}, err
	}
	q.ID, q.Status, q.AskedBy, q.AskedAt = "q"+strconv.Itoa(len(r.item.Queries)+1), "open", a.Name, Now.Format(time.RFC3339)
	r.item.Queries = append(r.item.Queries, q)
	r.move(a.Name, workitem.OnHold)
	return q, nil
}

// AnswerQuery answers an open query and puts the item back to ready.
// Errors: Forbidden (workitem.MayAnswerQuery), NotFound (item or query),
// Conflict (already answered).
func (s *Store) AnswerQuery(_ context.Context, id, qid string, a workitem.Actor, answer string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call("AnswerQuery", "%s, %s, %s", id, qid, a.Name); err != nil {
		return err
	}
	if err := workitem.MayAnswerQuery(a.Role); err != nil {
		return err
	}
	r, err := s.item(id)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(r.item.Queries, func(q workitem.Query) bool { return q.ID == qid })
	switch {
	case i < 0:
		return workitem.Errorf(workitem.NotFound, "query %s of work item %s not found", qid, id)
	case r.item.Queries[i].Status != "open":
		return workitem.Errorf(workitem.Conflict, "query %s is already answered", qid)
	}
	r.item.Queries = slices.Clone(r.item.Queries)
	q := &r.item.Queries[i]
	q.Status, q.Answer, q.AnsweredBy, q.AnsweredAt = "answered", answer, a.Name, Now.Format(time.RFC3339)
	r.move(a.Name, workitem.Ready)
	return nil
}
