package ingest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// racingStore makes the first transaction lose a conditional-create race:
// another request commits the matching Patient between planning and
// writing, as the real store reports with ErrConditionalRace.
type racingStore struct {
	*fakeStore
	raced bool
}

func (r *racingStore) WriteResources(ctx context.Context, actor string, ws []workitem.ResourceWrite) ([]workitem.WriteResult, error) {
	if !r.raced {
		r.raced = true
		r.mu.Lock()
		r.cond["Patient?identifier=urn:mrn|7"] = "winner"
		r.mu.Unlock()
		return nil, &workitem.Error{Kind: workitem.Conflict, Err: workitem.ErrConditionalRace, Message: "raced"}
	}
	return r.fakeStore.WriteResources(ctx, actor, ws)
}

func TestTransactionReplannedAfterConditionalRace(t *testing.T) {
	st := &racingStore{fakeStore: newFakeStore()}
	svc := &ingest.Service{Parser: parser, Store: st}
	raw := []byte(`{"resourceType":"Bundle","type":"transaction","entry":[
{"fullUrl":"urn:uuid:4a0c1a8e-0d5e-4d7e-9f1a-2b3c4d5e6f70","resource":{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"7"}]},
 "request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=urn:mrn|7"}},
{"resource":{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"urn:uuid:4a0c1a8e-0d5e-4d7e-9f1a-2b3c4d5e6f70"}},
 "request":{"method":"PUT","url":"Encounter/e1"}}]}`)
	res, err := svc.Raw(context.Background(), "ehr", raw)
	if err != nil {
		t.Fatalf("Raw = %v, want the retry to succeed", err)
	}
	if got := res.Entries[0].ID; got != "winner" {
		t.Errorf("Patient entry id = %q, want the committed winner", got)
	}
	enc := st.cur["Encounter/e1"]
	if !strings.Contains(string(enc.raw), `"Patient/winner"`) {
		t.Errorf("Encounter stored as %s, want its subject rewritten to Patient/winner", enc.raw)
	}
	if st.calls != 1 {
		t.Errorf("fake store saw %d writes after the race, want 1", st.calls)
	}
}
