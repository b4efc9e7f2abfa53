package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/hl7v2"
	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/v2ingest"
	"github.com/codebridge/codebridge/mapping/v2ingest/v2ingesttest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// directHL7 returns the HL7 v2 use case on m's store, wired as startMLLP
// wires it (with metrics of its own), for tests that call Handle directly;
// edit, when set, changes its options first (processing ids, logger,
// metrics, a parking store).
func directHL7(t testing.TB, m *Main, edit func(*v2ingest.Options)) *v2ingest.Service {
	t.Helper()
	parser, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	o := hl7Options(m, parser, prometheus.NewRegistry())
	if edit != nil {
		edit(&o)
	}
	return v2ingest.New(o)
}

// parkingStore is a store whose writes first call beforeWrite with the
// control id (MSH-10) of the message written: the HL7 v2 use case writes
// after it read the stored visit and mapped the message, so a test parks
// one message there to force an interleaving, or changes the visit
// meanwhile.
type parkingStore struct {
	ingest.Store
	beforeWrite func(controlID string)
}

func (p parkingStore) WriteResources(ctx context.Context, actor string, ws []workitem.ResourceWrite) ([]workitem.WriteResult, error) {
	if k, ok := workitem.MessageKeyFrom(ctx); ok {
		p.beforeWrite(k.ID)
	}
	return p.Store.WriteResources(ctx, actor, ws)
}

// parkWrites makes the use case write through a parkingStore calling
// beforeWrite.
func parkWrites(beforeWrite func(controlID string)) func(*v2ingest.Options) {
	return func(o *v2ingest.Options) {
		in := *o.Ingest
		in.Store = parkingStore{Store: in.Store, beforeWrite: beforeWrite}
		o.Ingest = &in
	}
}

// ackOf answers the application ACK code of ServeMLLP's answer ("" when
// there is none or it does not parse), plus its first ERR location and code.
func ackOf(frames [][]byte) string {
	if len(frames) == 0 {
		return ""
	}
	a, err := hl7v2.Parse(frames[len(frames)-1])
	if err != nil {
		return ""
	}
	if code := ackCode(a); code != "AA" {
		return code + " " + errAt(a)
	}
	return "AA"
}

// withPID replaces the message's PID segment.
func withPID(msg []byte, pid string) []byte {
	segs := bytes.Split(msg, []byte("\r"))
	for i, s := range segs {
		if bytes.HasPrefix(s, []byte("PID|")) {
			segs[i] = []byte(pid)
		}
	}
	return bytes.Join(segs, []byte("\r"))
}

// storedJSON reads the current version of Type/id from the store.
func storedJSON(t *testing.T, m *Main, typ, id string) (map[string]any, int) {
	t.Helper()
	r, err := m.Store.ReadResource(context.Background(), typ, id, 0)
	if err != nil {
		t.Fatalf("read %s/%s: %v", typ, id, err)
	}
	var v map[string]any
	if err := json.Unmarshal(r.Raw, &v); err != nil {
		t.Fatal(err)
	}
	return v, r.Version
}

// TestMLLPThinMessageKeepsPatient: an A08 whose PID carries only the MRN
// and name keeps the birth date, sex, address and phone the A01 stored
// (and makes no new Patient version); a PID-7 sent as "" clears the birth
// date and nothing else.
func TestMLLPThinMessageKeepsPatient(t *testing.T) {
	m := startMLLPMain(t, pgtest.NewURL(t))
	c := dialMLLP(t, m)
	a01 := hl7Sample(t, "adt-a01.hl7")
	if ack := sendHL7(t, c, a01); ackCode(ack) != "AA" {
		t.Fatalf("A01: %s", ackCode(ack))
	}
	_, patID := v2ingesttest.VisitIDs(t, a01)
	full, v1 := storedJSON(t, m, "Patient", patID)
	for _, k := range []string{"birthDate", "gender", "address", "telecom"} {
		if full[k] == nil {
			t.Fatalf("the A01 stored no Patient.%s", k)
		}
	}
	thin := withPID(hl7Sample(t, "adt-a08.hl7"), "PID|1||CB000123^^^CBHOSP^MR||ZZTEST^ALEX^J^^^^L")
	if ack := sendHL7(t, c, thin); ackCode(ack) != "AA" {
		t.Fatalf("thin A08: %s %s", ackCode(ack), errAt(ack))
	}
	got, v := storedJSON(t, m, "Patient", patID)
	delete(got, "meta")
	delete(full, "meta")
	if v != v1 || fmt.Sprint(got) != fmt.Sprint(full) {
		t.Errorf("after a thin A08: version %d (was %d), Patient %v; want the A01's unchanged %v", v, v1, got, full)
	}
	null := v2ingesttest.WithControlID(withPID(hl7Sample(t, "adt-a08.hl7"), `PID|1||CB000123^^^CBHOSP^MR||ZZTEST^ALEX^J^^^^L||""`), "CB0099")
	if ack := sendHL7(t, c, null); ackCode(ack) != "AA" {
		t.Fatalf("A08 with PID-7 \"\": %s %s", ackCode(ack), errAt(ack))
	}
	got, v = storedJSON(t, m, "Patient", patID)
	if v != v1+1 || got["birthDate"] != nil || got["address"] == nil || got["telecom"] == nil || got["gender"] != "female" {
		t.Errorf("after PID-7 \"\": version %d, Patient %v; want a new version without birthDate, the rest kept", v, got)
	}
}

// TestMLLPConcurrentVisitMessages forces the interleaving of two messages
// of one visit on two connections: one is parked after reading the stored
// visit and mapping, the other is processed whole, then the first goes
// on. Whatever the order, the visit ends discharged (finished, ready to
// code): the parked write finds the visit changed, reads it again and maps
// again.
func TestMLLPConcurrentVisitMessages(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	ctx := context.Background()
	tests := []struct {
		name, parked, visit string
	}{
		{"A01 parked while the A03 commits", "ADT^A01", "VRACE01"},
		{"A03 parked while the A01 commits", "ADT^A03", "VRACE02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs := map[string][]byte{}
			for ev, file := range map[string]string{"ADT^A01": "adt-a01.hl7", "ADT^A03": "adt-a03.hl7"} {
				msg := bytes.ReplaceAll(hl7Sample(t, file), []byte("V20250314001"), []byte(tt.visit))
				msgs[ev] = v2ingesttest.WithControlID(msg, tt.visit+ev[4:])
			}
			other := "ADT^A03"
			if tt.parked == other {
				other = "ADT^A01"
			}
			parked, release := make(chan struct{}), make(chan struct{})
			var attempts atomic.Int32
			parkedID := tt.visit + tt.parked[4:]
			h := directHL7(t, m, parkWrites(func(controlID string) {
				if controlID != parkedID {
					return
				}
				if attempts.Add(1) == 1 {
					close(parked)
					<-release
				}
			}))
			done := make(chan string, 1)
			go func() { done <- ackOf(h.Handle(ctx, msgs[tt.parked])) }()
			<-parked
			if got := ackOf(h.Handle(ctx, msgs[other])); got != "AA" {
				t.Fatalf("%s: ACK %s", other, got)
			}
			close(release)
			if got := <-done; got != "AA" {
				t.Fatalf("parked %s: ACK %s", tt.parked, got)
			}
			if n := attempts.Load(); n != 2 {
				t.Errorf("parked %s was written %d times, want 2 (its first write lost)", tt.parked, n)
			}
			encID, _ := v2ingesttest.VisitIDs(t, msgs["ADT^A01"])
			enc, _ := storedJSON(t, m, "Encounter", encID)
			if enc["status"] != "finished" || enc["period"].(map[string]any)["end"] == nil {
				t.Errorf("Encounter %v %v, want finished with its discharge", enc["status"], enc["period"])
			}
			if n := count(t, m, `SELECT count(*) FROM work_items WHERE encounter_id = $1 AND status = 'ready'`, encID); n != 1 {
				t.Errorf("work item not ready (%d ready)", n)
			}
		})
	}
}

// TestMLLPConflictRetriesThenAR: a message whose visit changes between
// every read and write is mapped and written four times (three retries),
// then refused with AR 206 without being recorded, so the sender's retry
// is applied.
func TestMLLPConflictRetriesThenAR(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	bumper := directHL7(t, m, nil) // another connection, without the hook
	ctx := context.Background()
	a01 := hl7Sample(t, "adt-a01.hl7")
	if got := ackOf(bumper.Handle(ctx, a01)); got != "AA" {
		t.Fatalf("A01: %s", got)
	}
	var mapped int
	h := directHL7(t, m, parkWrites(func(controlID string) {
		if controlID != "CB0002" { // the A08
			return
		}
		mapped++
		// Another feed moves the admission time of the visit meanwhile.
		bump := bytes.ReplaceAll(a01, []byte("20250314083000-0500"), fmt.Appendf(nil, "202503140%d0000-0500", mapped))
		if got := ackOf(bumper.Handle(ctx, v2ingesttest.WithControlID(bump, fmt.Sprintf("BUMP%d", mapped)))); got != "AA" {
			t.Errorf("bump %d: %s", mapped, got)
		}
	}))
	a08 := hl7Sample(t, "adt-a08.hl7")
	if got := ackOf(h.Handle(ctx, a08)); got != "AR MSH- 206" {
		t.Errorf("A08 losing every race: ACK %q, want AR 206", got)
	}
	if mapped != 1+v2ingest.ConflictRetries {
		t.Errorf("A08 mapped %d times, want %d", mapped, 1+v2ingest.ConflictRetries)
	}
	if n := count(t, m, `SELECT count(*) FROM inbound_messages WHERE message_id = 'CB0002'`); n != 0 {
		t.Fatalf("the refused A08's key was recorded")
	}
	if got := ackOf(bumper.Handle(ctx, a08)); got != "AA" {
		t.Errorf("A08 retried: ACK %s", got)
	}
}

// TestMLLPControlIDReusedWhileInFlight: two messages with one MSH-10 and
// different content arrive at once; the one that commits second finds the
// key recorded by the first when it writes (not when it checks), and is
// answered as a re-used id all the same: AA with a warning ERR at MSH-10,
// not applied, counted, and logged without PHI.
func TestMLLPControlIDReusedWhileInFlight(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	reg := prometheus.NewRegistry()
	var logs v2ingesttest.SyncBuffer
	var writes atomic.Int32
	parked, release := make(chan struct{}), make(chan struct{})
	h := directHL7(t, m, func(o *v2ingest.Options) {
		o.Metrics = v2ingest.NewMetrics(reg)
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		parkWrites(func(string) {
			if writes.Add(1) == 1 { // the A01's first write: it is sent first
				close(parked)
				<-release
			}
		})(o)
	})
	ctx := context.Background()
	a01 := v2ingesttest.WithControlID(hl7Sample(t, "adt-a01.hl7"), "RACE1")
	a08 := v2ingesttest.WithControlID(hl7Sample(t, "adt-a08.hl7"), "RACE1")
	done := make(chan [][]byte, 1)
	go func() { done <- h.Handle(ctx, a01) }()
	<-parked
	if got := ackOf(h.Handle(ctx, a08)); got != "AA" {
		t.Fatalf("A08: ACK %s", got)
	}
	_, patID := v2ingesttest.VisitIDs(t, a08)
	_, version := storedJSON(t, m, "Patient", patID)
	close(release)
	frames := <-done
	if len(frames) != 1 {
		t.Fatalf("%d frames, want one ACK", len(frames))
	}
	ack, err := hl7v2.Parse(frames[0])
	if err != nil {
		t.Fatal(err)
	}
	if e := ack.First("ERR"); ackCode(ack) != "AA" || errAt(ack) != "MSH-10 207" || e.Get("4") != "W" {
		t.Errorf("A01 under the A08's id: ACK %s ERR %s severity %q, want AA with a W at MSH-10 207", ackCode(ack), errAt(ack), e.Get("4"))
	}
	if n := v2ingesttest.CounterValue(t, reg, "codebridge_hl7_control_id_reused_total"); n != 1 {
		t.Errorf("codebridge_hl7_control_id_reused_total = %v, want 1", n)
	}
	if _, v := storedJSON(t, m, "Patient", patID); v != version {
		t.Errorf("the A01 under a re-used id wrote the Patient (version %d -> %d)", version, v)
	}
	if n := count(t, m, `SELECT count(*) FROM inbound_messages WHERE message_id = 'RACE1'`); n != 1 {
		t.Errorf("%d keys RACE1, want 1", n)
	}
	out := logs.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "control_id=RACE1") || !strings.Contains(out, "event=ADT^A01") {
		t.Errorf("no warning naming the event and control id:\n%s", out)
	}
	for _, phi := range []string{"ZZTEST", "ALEX", "CB000123", "19800215", "SPRINGFIELD", "5550100"} {
		if strings.Contains(out, phi) {
			t.Errorf("the log carries %q:\n%s", phi, out)
		}
	}
}
