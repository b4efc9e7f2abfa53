package postgres

import (
	"context"
	"strings"

	"github.com/lib/pq"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// fillIdentifiers sets Identifiers on each delivery: for every relative
// reference its Claim makes, one identifier of the referenced resource (the
// first by system and value, so the choice is stable), and for Claims (a
// correction's related.claim) the Claim's own identifier. The sink then
// receives logical references it can resolve or keep, instead of ids that
// only mean something here.
func (s *DeliveryStore) fillIdentifiers(ctx context.Context, ds []workitem.ClaimDelivery) error {
	var types, ids, claims []string
	seen := map[string]bool{}
	for _, d := range ds {
		_, err := fhir.RewriteReferencesJSON(d.Raw, func(ref string) (string, bool) {
			typ, id, ok := strings.Cut(ref, "/")
			if ok && id != "" && !strings.Contains(id, "/") && !seen[ref] {
				seen[ref] = true
				if typ == "Claim" {
					claims = append(claims, id)
				} else {
					types, ids = append(types, typ), append(ids, id)
				}
			}
			return "", false
		})
		if err != nil {
			return err
		}
	}
	found, err := s.lookupIdentifiers(ctx, types, ids, claims)
	if err != nil {
		return err
	}
	for i := range ds {
		ds[i].Identifiers = found
	}
	return nil
}

func (s *DeliveryStore) lookupIdentifiers(ctx context.Context, types, ids, claims []string) (map[string]workitem.Identifier, error) {
	found := map[string]workitem.Identifier{}
	if len(types) == 0 && len(claims) == 0 {
		return found, nil
	}
	rows, err := s.db.QueryContext(ctx, `
SELECT DISTINCT ON (r.type, r.id) r.type, r.id, r.system, r.value
  FROM resource_identifiers r JOIN unnest($1::text[], $2::text[]) AS w(type, id) ON r.type = w.type AND r.id = w.id
 ORDER BY r.type, r.id, r.system, r.value`, pq.Array(types), pq.Array(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var typ, id string
		var ident workitem.Identifier
		if err := rows.Scan(&typ, &id, &ident.System, &ident.Value); err != nil {
			return nil, err
		}
		found[typ+"/"+id] = ident
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	crow, err := s.db.QueryContext(ctx, `SELECT id, identifier FROM claims WHERE id = ANY($1)`, pq.Array(claims))
	if err != nil {
		return nil, err
	}
	defer crow.Close()
	for crow.Next() {
		var id, value string
		if err := crow.Scan(&id, &value); err != nil {
			return nil, err
		}
		found["Claim/"+id] = workitem.Identifier{System: mapping.SystemClaimIdentifier, Value: value}
	}
	return found, crow.Err()
}
