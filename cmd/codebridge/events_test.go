package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
)

type cloudEvent struct {
	SpecVersion     string `json:"specversion"`
	ID              string `json:"id"`
	Source          string `json:"source"`
	Type            string `json:"type"`
	Time            string `json:"time"`
	Subject         string `json:"subject"`
	DataContentType string `json:"datacontenttype"`
	Data            struct {
		WorkItemID     string `json:"workItemId"`
		Encounter      string `json:"encounter"`
		Patient        string `json:"patient"`
		Status         string `json:"status"`
		PreviousStatus string `json:"previousStatus"`
		Actor          string `json:"actor"`
	} `json:"data"`
}

// readEvents consumes the status topic from the start until n events came.
func readEvents(t *testing.T, m *Main, n int) ([]kafka.Message, []cloudEvent) {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{m.KafkaAddr}, Topic: m.Config.StatusTopic,
		GroupID: "test-" + t.Name(), StartOffset: kafka.FirstOffset, MaxWait: 50 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var msgs []kafka.Message
	var evs []cloudEvent
	for len(msgs) < n {
		msg, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("after %d of %d events: %v", len(msgs), n, err)
		}
		var ev cloudEvent
		if err := json.Unmarshal(msg.Value, &ev); err != nil {
			t.Fatalf("event is not JSON: %v", err)
		}
		msgs, evs = append(msgs, msg), append(evs, ev)
	}
	return msgs, evs
}

func TestStatusEventsReachKafka(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	enc := `{"resourceType":"Encounter","id":"ev1","status":"in-progress","class":{"code":"AMB"},"subject":{"reference":"Patient/pp"}}`
	send(t, m, "PUT", "/fhir/Encounter/ev1", []byte(enc))
	finished := `{"resourceType":"Encounter","id":"ev1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/pp"}}`
	send(t, m, "PUT", "/fhir/Encounter/ev1", []byte(finished))
	if code, _ := apiCall(t, m, "POST", "/api/v1/work-items/next", "e2e-coder-token"); code != 200 {
		t.Fatalf("lease = %d", code)
	}
	msgs, evs := readEvents(t, m, 3)
	wantStatus := []string{"pending", "ready", "in_progress"}
	wantPrev := []string{"", "pending", "ready"}
	ids := map[string]bool{}
	for i, ev := range evs {
		if string(msgs[i].Key) != "Encounter/ev1" {
			t.Errorf("event %d key %q", i, msgs[i].Key)
		}
		if ev.SpecVersion != "1.0" || ev.Source != "codebridge" || ev.Type != "codebridge.workitem."+wantStatus[i] ||
			ev.DataContentType != "application/json" || ev.Subject != ev.Data.WorkItemID || ev.ID == "" {
			t.Errorf("event %d envelope = %+v", i, ev)
		}
		if _, err := time.Parse(time.RFC3339, ev.Time); err != nil {
			t.Errorf("event %d time %q: %v", i, ev.Time, err)
		}
		if ev.Data.Status != wantStatus[i] || ev.Data.PreviousStatus != wantPrev[i] || ev.Data.Encounter != "Encounter/ev1" || ev.Data.Patient != "Patient/pp" {
			t.Errorf("event %d data = %+v", i, ev.Data)
		}
		ids[ev.ID] = true
	}
	if evs[2].Data.Actor != "alice" || evs[0].Data.Actor != "ehr1" {
		t.Errorf("actors = %q, %q", evs[0].Data.Actor, evs[2].Data.Actor)
	}
	if len(ids) != 3 {
		t.Errorf("event ids not unique: %v", ids)
	}
}
