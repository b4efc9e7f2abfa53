package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/mllp"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/hl7v2"
	"github.com/codebridge/codebridge/mapping/v2ingest"
	"github.com/codebridge/codebridge/mapping/v2ingest/v2ingesttest"
)

// hl7Sample reads a synthetic message from testdata/hl7v2.
func hl7Sample(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "hl7v2", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func startMLLPMain(t *testing.T, dbURL string) *Main {
	t.Helper()
	return startMain(t, dbURL, func(c *config.Config) { c.MLLPAddr = "127.0.0.1:0" })
}

// sendHL7 sends one message and parses the ACK.
func sendHL7(t *testing.T, c *mllp.Client, msg []byte) *hl7v2.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raw, err := c.Send(ctx, msg)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	ack, err := hl7v2.Parse(raw)
	if err != nil {
		t.Fatalf("ACK does not parse: %v\n%q", err, raw)
	}
	return ack
}

func ackCode(ack *hl7v2.Message) string { return ack.First("MSA").Value(1, 1) }

func dialMLLP(t *testing.T, m *Main) *mllp.Client {
	t.Helper()
	c, err := mllp.Dial(context.Background(), m.MLLPAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// errAt is the ACK's first ERR as "segment-field code" (ERR-2.1, ERR-2.3, ERR-3.1).
func errAt(ack *hl7v2.Message) string {
	e := ack.First("ERR")
	return e.Get("2.1") + "-" + e.Get("2.3") + " " + e.Get("3.1")
}

func TestMLLPVisitEndToEnd(t *testing.T) {
	m := startMLLPMain(t, pgtest.NewURL(t))
	c := dialMLLP(t, m)
	for _, name := range []string{"adt-a01.hl7", "adt-a03.hl7", "dft-p03.hl7"} {
		ack := sendHL7(t, c, hl7Sample(t, name))
		if ackCode(ack) != "AA" {
			t.Fatalf("%s: ACK %s, want AA: %v", name, ackCode(ack), ack.First("ERR").Get("3.2"))
		}
		if got := ack.First("MSA").Value(2, 1); got == "" {
			t.Errorf("%s: MSA-2 empty", name)
		}
	}
	if n := count(t, m, `SELECT count(*) FROM resources WHERE type = 'Encounter'`); n != 1 {
		t.Fatalf("%d Encounters, want one for the visit", n)
	}
	if n := count(t, m, `SELECT count(*) FROM resources WHERE type = 'Patient'`); n != 1 {
		t.Fatalf("%d Patients, want 1", n)
	}
	if n := count(t, m, `SELECT count(*) FROM resources WHERE type = 'ChargeItem'`); n != 4 {
		t.Errorf("%d ChargeItems, want the four FT1 charges", n)
	}
	_, list := apiCall(t, m, "GET", "/api/v1/work-items", "e2e-admin-token")
	items := list["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("%d work items, want 1", len(items))
	}
	id := items[0].(map[string]any)["id"].(string)
	code, item := apiCall(t, m, "GET", "/api/v1/work-items/"+id, "e2e-admin-token")
	if code != 200 || item["status"] != "ready" {
		t.Fatalf("work item = %d %v, want ready", code, item["status"])
	}
	if enc := item["encounter"].(map[string]any); enc["status"] != "finished" || enc["class"] != "IMP" {
		t.Errorf("encounter = %v, want finished IMP", enc)
	}
	var dx, lines []string
	for _, s := range item["suggestedCodes"].([]any) {
		s := s.(map[string]any)
		if s["kind"] == "diagnosis" {
			dx = append(dx, s["code"].(string))
		} else if strings.HasPrefix(s["source"].(string), "ChargeItem/") {
			lines = append(lines, s["code"].(string))
		}
	}
	for _, want := range []string{"K35.80", "E11.9", "N39.0"} {
		if !strings.Contains(strings.Join(dx, " "), want) {
			t.Errorf("suggested diagnoses %v lack %s", dx, want)
		}
	}
	if len(lines) != 4 {
		t.Errorf("suggested charge lines %v, want the four FT1 codes", lines)
	}
	// A01 (admitted) makes a pending item, A03 (discharged) a ready one.
	_, evs := readEvents(t, m, 2)
	for i, want := range []string{"pending", "ready"} {
		if evs[i].Data.Status != want || evs[i].Data.Encounter != item["encounter"].(map[string]any)["reference"] || evs[i].Data.Actor != "hl7v2:CBHOSP" {
			t.Errorf("status event %d = %+v, want %s", i, evs[i].Data, want)
		}
	}
}

func TestMLLPRefusalsAndDuplicates(t *testing.T) {
	m := startMLLPMain(t, pgtest.NewURL(t))
	c := dialMLLP(t, m)
	// Bad content: no visit number → AE naming PV1-19.
	ack := sendHL7(t, c, hl7Sample(t, "adt-a01-no-visit-number.hl7"))
	if ackCode(ack) != "AE" || ack.First("ERR").Get("2.1") != "PV1" || ack.First("ERR").Get("2.3") != "19" {
		t.Errorf("no visit number: %s ERR-2 %s-%s, want AE at PV1-19", ackCode(ack), ack.First("ERR").Get("2.1"), ack.First("ERR").Get("2.3"))
	}
	// Unsupported message type → AR.
	if ack := sendHL7(t, c, hl7Sample(t, "oru-r01-unsupported.hl7")); ackCode(ack) != "AR" {
		t.Errorf("ORU^R01: ACK %s, want AR", ackCode(ack))
	}
	// Unparseable → AE, the connection stays usable.
	if ack := sendHL7(t, c, hl7Sample(t, "bad-no-msh10.hl7")); ackCode(ack) != "AE" {
		t.Errorf("no MSH-10: ACK %s, want AE", ackCode(ack))
	}
	if n := count(t, m, `SELECT count(*) FROM resources`); n != 0 {
		t.Fatalf("refused messages stored %d resources", n)
	}
	// A re-sent MSH-10 is acknowledged (a plain AA) and not applied again,
	// even re-framed with CRLF and with the MSH-7 (time) and MSH-13
	// (sequence number) the engine regenerates on a resend; the same MSH-10
	// on a message with other content (an A08 re-using the A01's id) is
	// acknowledged AA too (CONTRACT.md §6), with a warning ERR (severity W)
	// at MSH-10, counted, and not applied either.
	if ack := sendHL7(t, c, hl7Sample(t, "adt-a01.hl7")); ackCode(ack) != "AA" {
		t.Fatalf("A01: %s", ackCode(ack))
	}
	before := count(t, m, `SELECT count(*) FROM resource_versions`)
	resends := map[string][]byte{
		"CRLF":                 bytes.ReplaceAll(hl7Sample(t, "adt-a01.hl7"), []byte("\r"), []byte("\r\n")),
		"new MSH-7 and MSH-13": v2ingesttest.WithMSH(v2ingesttest.WithMSH(hl7Sample(t, "adt-a01.hl7"), 7, "20250314093000-0500"), 13, "42"),
	}
	for name, resent := range resends {
		if ack := sendHL7(t, c, resent); ackCode(ack) != "AA" || len(ack.All("ERR")) != 0 {
			t.Fatalf("re-sent A01 (%s): ACK %s with %d ERR, want a plain AA", name, ackCode(ack), len(ack.All("ERR")))
		}
	}
	if n := metric(t, m, "codebridge_hl7_control_id_reused_total"); n != 0 {
		t.Errorf("re-sends counted as %v re-used control ids", n)
	}
	dup := v2ingesttest.WithControlID(hl7Sample(t, "adt-a08.hl7"), "CB0001")
	ack = sendHL7(t, c, dup)
	if e := ack.First("ERR"); ackCode(ack) != "AA" || errAt(ack) != "MSH-10 207" || e.Get("4") != "W" ||
		e.Get("3.2") != "message control id already used for a different message; not applied" {
		t.Fatalf("MSH-10 re-used for other content: ACK %s ERR %s severity %q text %q, want AA with a W at MSH-10 207",
			ackCode(ack), errAt(ack), e.Get("4"), e.Get("3.2"))
	}
	if n := metric(t, m, "codebridge_hl7_control_id_reused_total"); n != 1 {
		t.Errorf("codebridge_hl7_control_id_reused_total = %v, want 1", n)
	}
	if after := count(t, m, `SELECT count(*) FROM resource_versions`); after != before {
		t.Errorf("duplicate MSH-10 wrote %d versions", after-before)
	}
	if n := count(t, m, `SELECT count(*) FROM inbound_messages WHERE message_id = 'CB0001' AND length(content_sha256) = 32`); n != 1 {
		t.Errorf("%d keys CB0001 with a SHA-256, want 1", n)
	}
	// The same A08 under its own id is applied.
	if ack := sendHL7(t, c, hl7Sample(t, "adt-a08.hl7")); ackCode(ack) != "AA" {
		t.Fatalf("A08: %s", ackCode(ack))
	}
	if after := count(t, m, `SELECT count(*) FROM resource_versions`); after == before {
		t.Error("A08 with a new MSH-10 wrote nothing")
	}
	// Enhanced mode: MSH-15/16 AL → an accept ACK (CA) then the application ACK.
	raw, err := net.Dial("tcp", m.MLLPAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := mllp.WriteFrame(raw, hl7Sample(t, "adt-a01-enhanced.hl7")); err != nil {
		t.Fatal(err)
	}
	_ = raw.SetReadDeadline(time.Now().Add(30 * time.Second))
	r := mllp.NewReader(raw, 1<<20)
	var codes []string
	for range 2 {
		f, err := r.ReadFrame()
		if err != nil {
			t.Fatalf("enhanced ACKs: %v (got %v)", err, codes)
		}
		a, _ := hl7v2.Parse(f)
		codes = append(codes, ackCode(a))
	}
	if strings.Join(codes, ",") != "CA,AA" {
		t.Errorf("enhanced mode ACKs %v, want CA then AA", codes)
	}
}

// TestMLLPProcessingID: MSH-11 must be a processing id the listener takes
// (CODEBRIDGE_HL7_PROCESSING_IDS, P by default): another is AR 202, an
// empty one AE 101, and neither stores anything.
func TestMLLPProcessingID(t *testing.T) {
	tests := []struct {
		name     string
		accepted []string // nil: the default
		msh11    string
		want     string // ACK code and ERR ("" when AA)
	}{
		{"default takes production", nil, "P", "AA"},
		{"default refuses training", nil, "T", "AR MSH-11 202"},
		{"default refuses debugging, with a mode", nil, "D^T", "AR MSH-11 202"},
		{"test system takes training", []string{"P", "T"}, "T", "AA"},
		{"test system refuses debugging", []string{"P", "T"}, "D", "AR MSH-11 202"},
		{"empty", nil, "", "AE MSH-11 101"},
	}
	m := startMLLPMain(t, pgtest.NewURL(t))
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := directHL7(t, m, func(o *v2ingest.Options) { o.ProcessingIDs = tt.accepted })
			msg := v2ingesttest.WithControlID(v2ingesttest.WithMSH(hl7Sample(t, "adt-a01-minimal.hl7"), 11, tt.msh11), fmt.Sprintf("PID%03d", i))
			before := count(t, m, `SELECT count(*) FROM inbound_messages`)
			ack, err := hl7v2.Parse(h.Handle(context.Background(), msg)[0])
			if err != nil {
				t.Fatal(err)
			}
			got := ackCode(ack)
			if got != "AA" {
				got += " " + errAt(ack)
			}
			if got != tt.want {
				t.Errorf("MSH-11 %q: ACK %s, want %s", tt.msh11, got, tt.want)
			}
			if after := count(t, m, `SELECT count(*) FROM inbound_messages`); (after > before) != (tt.want == "AA") {
				t.Errorf("message keys %d -> %d", before, after)
			}
		})
	}
	// Over the wire, with the configured (default) set.
	if ack := sendHL7(t, dialMLLP(t, m), v2ingesttest.WithControlID(v2ingesttest.WithMSH(hl7Sample(t, "adt-a01.hl7"), 11, "T"), "WIRE1")); ackCode(ack) != "AR" || errAt(ack) != "MSH-11 202" {
		t.Errorf("MSH-11 T over MLLP: ACK %s %s, want AR MSH-11 202", ackCode(ack), errAt(ack))
	}
}

func TestMLLPDatabaseDownAnswersAR(t *testing.T) {
	dbURL, p := proxiedDatabase(t)
	m := startMLLPMain(t, dbURL)
	c := dialMLLP(t, m)
	p.setDown(true)
	ack := sendHL7(t, c, hl7Sample(t, "adt-a01.hl7"))
	if ackCode(ack) != "AR" || ack.First("ERR").Get("3.1") != "207" {
		t.Fatalf("database down: ACK %s ERR-3 %s, want AR 207", ackCode(ack), ack.First("ERR").Get("3.1"))
	}
	p.setDown(false)
	// Nothing was half-written: the retry is applied once, in full.
	var last *hl7v2.Message
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if last = sendHL7(t, c, hl7Sample(t, "adt-a01.hl7")); ackCode(last) == "AA" {
			break
		}
	}
	if ackCode(last) != "AA" {
		t.Fatalf("after recovery: ACK %s", ackCode(last))
	}
	if n := count(t, m, `SELECT count(*) FROM inbound_messages`); n != 1 {
		t.Errorf("%d message keys, want 1", n)
	}
	if n := count(t, m, `SELECT count(*) FROM resources WHERE type = 'Encounter'`); n != 1 {
		t.Errorf("%d Encounters after the retry, want 1", n)
	}
}

// TestMLLPMinimalSample sends the README's sample message.
func TestMLLPMinimalSample(t *testing.T) {
	m := startMLLPMain(t, pgtest.NewURL(t))
	if ack := sendHL7(t, dialMLLP(t, m), hl7Sample(t, "adt-a01-minimal.hl7")); ackCode(ack) != "AA" {
		t.Fatalf("README sample: ACK %s %s", ackCode(ack), ack.First("ERR").Get("3.2"))
	}
	if n := count(t, m, `SELECT count(*) FROM work_items WHERE status = 'pending'`); n != 1 {
		t.Errorf("%d pending work items, want 1 (admitted, not yet discharged)", n)
	}
}

// A visit withdrawn through FHIR (DELETE) stays withdrawn when the feed
// sends a later update for it.
func TestMLLPWithdrawnVisitStaysCancelled(t *testing.T) {
	m := startMLLPMain(t, pgtest.NewURL(t))
	c := dialMLLP(t, m)
	if ack := sendHL7(t, c, hl7Sample(t, "adt-a01.hl7")); ackCode(ack) != "AA" {
		t.Fatalf("A01: %s", ackCode(ack))
	}
	_, list := apiCall(t, m, "GET", "/api/v1/work-items", "e2e-admin-token")
	enc := list["items"].([]any)[0].(map[string]any)["encounter"].(string)
	if r := send(t, m, "DELETE", "/fhir/"+enc, nil); r.code != 204 {
		t.Fatalf("DELETE %s = %d", enc, r.code)
	}
	if ack := sendHL7(t, c, hl7Sample(t, "adt-a08.hl7")); ackCode(ack) != "AA" {
		t.Fatalf("A08: %s", ackCode(ack))
	}
	_, list = apiCall(t, m, "GET", "/api/v1/work-items", "e2e-admin-token")
	if st := list["items"].([]any)[0].(map[string]any)["status"]; st != "cancelled" {
		t.Errorf("work item after A08 of a withdrawn visit: %v, want cancelled", st)
	}
}
