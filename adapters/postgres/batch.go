package postgres

import (
	"context"
	"database/sql"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// isFresh reports whether w creates a resource under a new server-assigned
// id (a POST without If-None-Exist): such a row cannot exist yet, so it
// needs no lock or lookup and can be inserted in a batch with its peers.
func isFresh(w workitem.ResourceWrite) bool {
	return w.Method == "POST" && w.IfNoneExist == "" && w.IfMatch == 0
}

// insertFreshTx inserts fresh creates with one statement (resources,
// versions, identifiers for all of them: newResourcesSQL) instead of five
// round trips each: the database round trips, not the parse, bound bundle
// throughput.
func (s *Store) insertFreshTx(ctx context.Context, tx *sql.Tx, ws []*workitem.ResourceWrite) ([]workitem.WriteResult, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	now := s.now()
	flat := make([]workitem.ResourceWrite, len(ws))
	for i, w := range ws {
		flat[i] = *w
	}
	r, err := newFreshRows(flat, now)
	if err != nil {
		return nil, err
	}
	_, err = newResourcesSQL.exec(ctx, tx, r.params(params{}, 1, now))
	return r.out, err
}
