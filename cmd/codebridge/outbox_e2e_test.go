package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/kafkapub"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
)

// putEncounterStatus creates or updates an ambulatory Encounter with the
// given status through the FHIR API; any 2xx will do.
func putEncounterStatus(t *testing.T, m *Main, id, status string) {
	t.Helper()
	enc := fmt.Sprintf(`{"resourceType":"Encounter","id":%q,"status":%q,"class":{"code":"AMB"},"subject":{"reference":"Patient/p-%s"}}`, id, status, id)
	if r := send(t, m, "PUT", "/fhir/Encounter/"+id, []byte(enc)); r.code/100 != 2 {
		t.Fatalf("PUT Encounter/%s (%s) = %d %s", id, status, r.code, r.body)
	}
}

// TestOutboxOneRowPerStateChange: every work-item state change, whatever
// made it (FHIR ingest, a lease), writes exactly one status event, in the
// same order as the item's history.
func TestOutboxOneRowPerStateChange(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	for i := range 3 {
		putEncounterStatus(t, m, fmt.Sprintf("one%d", i), "in-progress")
	}
	putEncounterStatus(t, m, "one0", "finished") // pending -> ready
	putEncounterStatus(t, m, "one1", "finished")
	putEncounterStatus(t, m, "one1", "finished") // same content again: no change, no event
	putEncounterStatus(t, m, "one2", "cancelled")
	putEncounter(t, m, "one3", "IMP", 2) // born ready
	for range 2 {
		if code, body := apiCall(t, m, "POST", "/api/v1/work-items/next", "e2e-coder-token"); code != 200 {
			t.Fatalf("lease = %d %v", code, body)
		}
	}

	type change struct{ from, to string }
	history := map[string][]change{}
	rows, err := m.DB.Query(`SELECT w.encounter_id, h.from_status, h.to_status FROM work_item_history h
		JOIN work_items w ON w.id = h.work_item_id ORDER BY h.seq`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var enc string
		var c change
		if err := rows.Scan(&enc, &c.from, &c.to); err != nil {
			t.Fatal(err)
		}
		history["Encounter/"+enc] = append(history["Encounter/"+enc], c)
		n++
	}
	rows.Close()
	t.Logf("%d state changes", n)
	if n < 8 {
		t.Fatalf("only %d history rows; the scenario makes at least 8", n)
	}

	events := map[string][]change{}
	rows, err = m.DB.Query(`SELECT key, value FROM outbox WHERE topic = $1 ORDER BY key, seq`, m.Config.StatusTopic)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var key string
		var val []byte
		var ev cloudEvent
		if err := rows.Scan(&key, &val); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(val, &ev); err != nil {
			t.Fatal(err)
		}
		events[key] = append(events[key], change{ev.Data.PreviousStatus, ev.Data.Status})
	}
	rows.Close()
	if fmt.Sprint(events) != fmt.Sprint(history) {
		t.Errorf("status events per encounter:\n  %v\nwork item history:\n  %v", events, history)
	}
	if got := count(t, m, `SELECT count(*) FROM outbox WHERE topic = $1`, m.Config.StatusTopic); got != n {
		t.Errorf("%d status outbox rows for %d history rows", got, n)
	}
}

// TestOutboxBrokerOutageFromAPI: the broker goes away while the EHR keeps
// sending encounters. Every request still succeeds, the outbox grows, and
// once a broker is back on the same address every event arrives, in order
// per encounter.
//
// Main runs against an external broker the test owns (a kafkapub.Embedded
// configured as CODEBRIDGE_KAFKA_BROKERS), so the test can stop it and start
// a new one on the same address, without a test hook in Main.
func TestOutboxBrokerOutageFromAPI(t *testing.T) {
	b, err := kafkapub.StartEmbedded("127.0.0.1:0", kafkapub.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	t.Cleanup(func() { b.Close() })
	m := startMain(t, pgtest.NewURL(t), func(c *config.Config) { c.KafkaBrokers = []string{addr} })
	status := m.Config.StatusTopic

	put := func(id, st string) { t.Helper(); putEncounterStatus(t, m, id, st) }
	pending := func() int {
		return count(t, m, `SELECT count(*) FROM outbox WHERE state = 'pending' AND topic = $1`, status)
	}

	// Before the outage: delivered.
	put("span", "in-progress")
	deadline := time.Now().Add(15 * time.Second)
	for pending() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("first event never delivered")
		}
		time.Sleep(20 * time.Millisecond)
	}

	b.Close()
	put("span", "finished") // seq 2 of a key whose seq 1 went out
	for i := range 5 {
		id := fmt.Sprintf("out%d", i)
		put(id, "in-progress")
		put(id, "finished")
		put(id, "cancelled")
	}
	want := 1 + 5*3
	if got := pending(); got != want {
		t.Fatalf("pending during the outage = %d, want %d", got, want)
	}
	time.Sleep(300 * time.Millisecond) // let the relay fail a few rounds
	if got := count(t, m, `SELECT count(*) FROM outbox WHERE state = 'dead'`); got != 0 {
		t.Fatalf("the outage dead-lettered %d events", got)
	}
	if got := pending(); got != want {
		t.Fatalf("pending during the outage = %d, want %d", got, want)
	}

	// A broker again on the same address, empty: topics first, as an
	// operator (or Kafka's own durability) would provide.
	b, err = kafkapub.StartEmbedded(addr, kafkapub.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := kafkapub.EnsureTopics(tctx, kafkapub.Options{Brokers: []string{addr}}, m.Config.TopicPartitions, 1, status, m.Config.ClaimsTopic); err != nil {
		t.Fatal(err)
	}

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: status,
		GroupID: "test-" + t.Name(), StartOffset: kafka.FirstOffset, MaxWait: 50 * time.Millisecond})
	defer r.Close()
	rctx, rcancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer rcancel()
	seen := map[string]int64{} // last seq per encounter
	statuses := map[string][]string{}
	for distinct := 0; distinct < want; {
		msg, err := r.ReadMessage(rctx)
		if err != nil {
			t.Fatalf("after %d of %d events: %v", distinct, want, err)
		}
		var seq int64
		for _, h := range msg.Headers {
			if h.Key == kafkapub.SeqHeader {
				seq, _ = strconv.ParseInt(string(h.Value), 10, 64)
			}
		}
		key := string(msg.Key)
		first := int64(1)
		if key == "Encounter/span" {
			first = 2
		}
		last, ok := seen[key]
		switch {
		case ok && seq <= last: // a redelivery: consumers drop it by seq
			continue
		case !ok && seq != first, ok && seq != last+1:
			t.Fatalf("%s: seq %d after %d (seen %v); per-encounter order broken", key, seq, last, ok)
		}
		seen[key] = seq
		var ev cloudEvent
		if err := json.Unmarshal(msg.Value, &ev); err != nil {
			t.Fatal(err)
		}
		statuses[key] = append(statuses[key], ev.Data.PreviousStatus+">"+ev.Data.Status)
		distinct++
	}
	if got := fmt.Sprint(statuses["Encounter/span"]); got != "[pending>ready]" {
		t.Errorf("span events = %s", got)
	}
	for i := range 5 {
		key := fmt.Sprintf("Encounter/out%d", i)
		if got := fmt.Sprint(statuses[key]); got != "[>pending pending>ready ready>cancelled]" {
			t.Errorf("%s events = %s", key, got)
		}
	}
	deadline = time.Now().Add(10 * time.Second)
	for pending() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := pending(); got != 0 {
		t.Errorf("pending after recovery = %d", got)
	}
}
