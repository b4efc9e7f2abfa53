package mapping_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping"
)

func TestStatusMessageShape(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600))
	tests := []struct {
		name   string
		change mapping.StatusChange
		want   map[string]any
	}{{
		name: "first status, no claim",
		change: mapping.StatusChange{WorkItemID: "wi-1", Encounter: "Encounter/e1", Patient: "Patient/p1",
			Status: "ready", Actor: "system", At: at, EventID: "ev-1"},
		want: map[string]any{
			"specversion": "1.0", "id": "ev-1", "source": "codebridge", "type": "codebridge.workitem.ready",
			"time": "2026-03-04T04:06:07Z", "subject": "wi-1", "datacontenttype": "application/json",
			"data": map[string]any{"workItemId": "wi-1", "encounter": "Encounter/e1", "patient": "Patient/p1",
				"status": "ready", "previousStatus": "", "actor": "system"},
		},
	}, {
		name: "claim issued",
		change: mapping.StatusChange{WorkItemID: "wi-1", Encounter: "Encounter/e1", Patient: "Patient/p1",
			Status: "billed", PreviousStatus: "coded", Actor: "alice", Claim: "Claim/c9", At: at, EventID: "ev-2"},
		want: map[string]any{
			"specversion": "1.0", "id": "ev-2", "source": "codebridge", "type": "codebridge.workitem.billed",
			"time": "2026-03-04T04:06:07Z", "subject": "wi-1", "datacontenttype": "application/json",
			"data": map[string]any{"workItemId": "wi-1", "encounter": "Encounter/e1", "patient": "Patient/p1",
				"status": "billed", "previousStatus": "coded", "actor": "alice", "claim": "Claim/c9"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := mapping.StatusMessage("status", tt.change)
			if err != nil {
				t.Fatal(err)
			}
			if m.Topic != "status" || m.Key != "Encounter/e1" || m.Headers["content-type"] != mapping.CloudEventsJSON {
				t.Errorf("topic/key/headers = %q %q %v", m.Topic, m.Key, m.Headers)
			}
			var got map[string]any
			if err := json.Unmarshal(m.Value, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("event mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatusEventGeneratesUniqueIDsAndRFC3339Time(t *testing.T) {
	c := mapping.StatusChange{WorkItemID: "w", Encounter: "Encounter/e", Patient: "Patient/p", Status: "new"}
	a, err := mapping.StatusEvent(c)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := mapping.StatusEvent(c)
	if a.ID == "" || a.ID == b.ID {
		t.Errorf("ids %q and %q are not unique", a.ID, b.ID)
	}
	if _, err := time.Parse(time.RFC3339, a.Time); err != nil {
		t.Errorf("time %q: %v", a.Time, err)
	}
}

func TestStatusEventRejectsMissingFields(t *testing.T) {
	for _, c := range []mapping.StatusChange{
		{Encounter: "Encounter/e", Status: "new"},
		{WorkItemID: "w", Encounter: "e", Status: "new"},
		{WorkItemID: "w", Encounter: "Encounter/e"},
	} {
		if _, err := mapping.StatusEvent(c); err == nil {
			t.Errorf("StatusEvent(%+v) succeeded", c)
		}
	}
}

func TestClaimMessage(t *testing.T) {
	m := mapping.ClaimMessage("claims", "c1", []byte(`{"resourceType":"Claim","id":"c1"}`))
	if m.Topic != "claims" || m.Key != "Claim/c1" || string(m.Value) != `{"resourceType":"Claim","id":"c1"}` ||
		m.Headers["content-type"] != mapping.FHIRJSON {
		t.Errorf("ClaimMessage = %+v", m)
	}
}
