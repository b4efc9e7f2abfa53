package v2ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/mapping/hl7v2"
	"github.com/codebridge/codebridge/mapping/v2ingest/v2ingesttest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// TestHandleOneMessage: what one message is answered, and what it stores
// (nothing when it is refused).
func TestHandleOneMessage(t *testing.T) {
	tests := []struct {
		file                 string
		want                 string
		encounters, patients int
		chargeItems          int
	}{
		{"adt-a01.hl7", "AA", 1, 1, 0},
		{"adt-a01-minimal.hl7", "AA", 1, 1, 0},
		{"dft-p03.hl7", "AA", 1, 1, 4},
		{"adt-a01-no-visit-number.hl7", "AE PV1-19 101", 0, 0, 0},
		{"oru-r01-unsupported.hl7", "AR MSH-9 200", 0, 0, 0},
		{"bad-no-msh10.hl7", "AE MSH-10 101", 0, 0, 0},
		{"bad-not-msh.hl7", "AE MSH- 100", 0, 0, 0},
		{"bad-charset.hl7", "AE MSH-18 103", 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := newFakeStore()
			s := newService(t, f, nil)
			if got := ackOf(t, s.Handle(context.Background(), sample(t, tt.file))); got != tt.want {
				t.Errorf("ACK %q, want %q", got, tt.want)
			}
			got := []int{f.count("Encounter"), f.count("Patient"), f.count("ChargeItem")}
			if diff := cmp.Diff([]int{tt.encounters, tt.patients, tt.chargeItems}, got); diff != "" {
				t.Errorf("Encounters, Patients, ChargeItems stored: mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestHandleVisit: an A01, A03 and DFT of one visit make one Encounter,
// discharged, and one Patient, written under the facility as actor.
func TestHandleVisit(t *testing.T) {
	f := newFakeStore()
	s := newService(t, f, nil)
	for _, name := range []string{"adt-a01.hl7", "adt-a03.hl7", "dft-p03.hl7"} {
		msg := sample(t, name)
		frames := s.Handle(context.Background(), msg)
		if got := ackOf(t, frames); got != "AA" {
			t.Fatalf("%s: ACK %s", name, got)
		}
		if got, want := parseACK(t, frames[0]).First("MSA").Value(2, 1), parseACK(t, msg).Header().ControlID; got != want {
			t.Errorf("%s: MSA-2 %q, want the message's MSH-10 %q", name, got, want)
		}
	}
	encID, _ := v2ingesttest.VisitIDs(t, sample(t, "adt-a01.hl7"))
	enc, _ := storedJSON(t, f, "Encounter", encID)
	if enc["status"] != "finished" || f.count("Encounter") != 1 || f.count("Patient") != 1 {
		t.Errorf("Encounter %v (%d Encounters, %d Patients), want one finished visit of one patient", enc["status"], f.count("Encounter"), f.count("Patient"))
	}
}

// TestHandleDuplicates: a re-sent MSH-10 is a plain AA and not applied
// again, even re-framed or with a new MSH-7 and MSH-13; the MSH-10 of
// another message is AA with a warning ERR at MSH-10, counted, and not
// applied either (CONTRACT.md §6); the same message under its own id is
// applied.
func TestHandleDuplicates(t *testing.T) {
	f := newFakeStore()
	reg := prometheus.NewRegistry()
	s := newService(t, f, func(o *Options) { o.Metrics = NewMetrics(reg) })
	ctx := context.Background()
	a01 := sample(t, "adt-a01.hl7")
	if got := ackOf(t, s.Handle(ctx, a01)); got != "AA" {
		t.Fatalf("A01: %s", got)
	}
	writes := f.writes
	resends := map[string][]byte{
		"as sent":              a01,
		"CRLF":                 bytes.ReplaceAll(a01, []byte("\r"), []byte("\r\n")),
		"new MSH-7 and MSH-13": v2ingesttest.WithMSH(v2ingesttest.WithMSH(a01, 7, "20250314093000-0500"), 13, "42"),
	}
	for name, resent := range resends {
		frames := s.Handle(ctx, resent)
		if got := ackOf(t, frames); got != "AA" || len(parseACK(t, frames[0]).All("ERR")) != 0 {
			t.Errorf("re-sent A01 (%s): ACK %s, want a plain AA", name, got)
		}
	}
	if n := v2ingesttest.CounterValue(t, reg, "codebridge_hl7_control_id_reused_total"); n != 0 {
		t.Errorf("re-sends counted as %v re-used control ids", n)
	}
	ack := parseACK(t, s.Handle(ctx, v2ingesttest.WithControlID(sample(t, "adt-a08.hl7"), "CB0001"))[0])
	if e := ack.First("ERR"); ack.First("MSA").Value(1, 1) != "AA" || errAt(ack) != "MSH-10 207" || e.Get("4") != "W" ||
		e.Get("3.2") != "message control id already used for a different message; not applied" {
		t.Errorf("MSH-10 re-used for other content: ACK %s ERR %s severity %q text %q, want AA with a W at MSH-10 207",
			ack.First("MSA").Value(1, 1), errAt(ack), e.Get("4"), e.Get("3.2"))
	}
	if n := v2ingesttest.CounterValue(t, reg, "codebridge_hl7_control_id_reused_total"); n != 1 {
		t.Errorf("codebridge_hl7_control_id_reused_total = %v, want 1", n)
	}
	if f.writes != writes {
		t.Errorf("duplicates made %d writes, want none", f.writes-writes)
	}
	if got := ackOf(t, s.Handle(ctx, sample(t, "adt-a08.hl7"))); got != "AA" || f.writes != writes+1 {
		t.Errorf("A08 under its own id: ACK %s, %d writes, want AA and one write", got, f.writes-writes)
	}
}

// TestHandleReceiverFault: with the store down, a message is AR 207 and
// its key is not recorded, so the sender's retry is applied once.
func TestHandleReceiverFault(t *testing.T) {
	f := newFakeStore()
	s := newService(t, f, nil)
	ctx := context.Background()
	a01 := sample(t, "adt-a01.hl7")
	f.fail = workitem.Errorf(workitem.Transient, "database down")
	if got := ackOf(t, s.Handle(ctx, a01)); got != "AR MSH- 207" {
		t.Errorf("store down: ACK %q, want AR 207", got)
	}
	f.fail = nil
	if n := f.recorded("CB0001"); n != 0 {
		t.Fatalf("the refused A01's key was recorded")
	}
	if got := ackOf(t, s.Handle(ctx, a01)); got != "AA" || f.count("Encounter") != 1 {
		t.Errorf("retry: ACK %s, %d Encounters, want AA and one", got, f.count("Encounter"))
	}
}

// TestHandleConflictRetriesThenAR: a message whose visit changes between
// every read and write is written four times (three retries), then
// refused with AR 206 without being recorded, so the sender's retry is
// applied.
func TestHandleConflictRetriesThenAR(t *testing.T) {
	f := newFakeStore()
	s := newService(t, f, nil)
	ctx := context.Background()
	a01 := sample(t, "adt-a01.hl7")
	if got := ackOf(t, s.Handle(ctx, a01)); got != "AA" {
		t.Fatalf("A01: %s", got)
	}
	var mapped int
	f.hook = func(controlID string, _ int) {
		if controlID != "CB0002" { // the A08
			return
		}
		mapped++
		// Another feed moves the admission time of the visit meanwhile.
		bump := bytes.ReplaceAll(a01, []byte("20250314083000-0500"), fmt.Appendf(nil, "202503140%d0000-0500", mapped))
		if got := ackOf(t, s.Handle(ctx, v2ingesttest.WithControlID(bump, fmt.Sprintf("BUMP%d", mapped)))); got != "AA" {
			t.Errorf("bump %d: %s", mapped, got)
		}
	}
	a08 := sample(t, "adt-a08.hl7")
	if got := ackOf(t, s.Handle(ctx, a08)); got != "AR MSH- 206" {
		t.Errorf("A08 losing every race: ACK %q, want AR 206", got)
	}
	if mapped != 1+ConflictRetries {
		t.Errorf("A08 written %d times, want %d", mapped, 1+ConflictRetries)
	}
	if f.recorded("CB0002") != 0 {
		t.Fatal("the refused A08's key was recorded")
	}
	f.hook = nil
	if got := ackOf(t, s.Handle(ctx, a08)); got != "AA" {
		t.Errorf("A08 retried: ACK %s", got)
	}
}

// TestHandleConcurrentVisitMessages parks one message of a visit after it
// read the stored visit and mapped, processes the other whole, then lets
// the first go on: whatever the order, the visit ends discharged, since
// the parked write finds the visit changed, reads it again and maps again.
func TestHandleConcurrentVisitMessages(t *testing.T) {
	tests := []struct{ name, parked, other string }{
		{"A01 parked while the A03 commits", "adt-a01.hl7", "adt-a03.hl7"},
		{"A03 parked while the A01 commits", "adt-a03.hl7", "adt-a01.hl7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStore()
			s := newService(t, f, nil)
			ctx := context.Background()
			parkedMsg, otherMsg := sample(t, tt.parked), sample(t, tt.other)
			parkedID := parseACK(t, parkedMsg).Header().ControlID
			parked, release := make(chan struct{}), make(chan struct{})
			var attempts atomic.Int32
			f.hook = func(controlID string, _ int) {
				if controlID == parkedID && attempts.Add(1) == 1 {
					close(parked)
					<-release
				}
			}
			done := make(chan string, 1)
			go func() { done <- ackOf(t, s.Handle(ctx, parkedMsg)) }()
			<-parked
			if got := ackOf(t, s.Handle(ctx, otherMsg)); got != "AA" {
				t.Fatalf("%s: ACK %s", tt.other, got)
			}
			close(release)
			if got := <-done; got != "AA" {
				t.Fatalf("parked %s: ACK %s", tt.parked, got)
			}
			if n := attempts.Load(); n != 2 {
				t.Errorf("parked %s was written %d times, want 2 (its first write lost)", tt.parked, n)
			}
			encID, _ := v2ingesttest.VisitIDs(t, parkedMsg)
			enc, _ := storedJSON(t, f, "Encounter", encID)
			if enc["status"] != "finished" || enc["period"].(map[string]any)["end"] == nil {
				t.Errorf("Encounter %v %v, want finished with its discharge", enc["status"], enc["period"])
			}
		})
	}
}

// TestHandleControlIDReusedWhileInFlight: two messages with one MSH-10 and
// different content arrive at once; the one that commits second finds the
// key recorded when it writes (not when it checks), and is answered as a
// re-used id all the same: AA with a warning, not applied, counted, and
// logged without PHI.
func TestHandleControlIDReusedWhileInFlight(t *testing.T) {
	f := newFakeStore()
	reg := prometheus.NewRegistry()
	var logs v2ingesttest.SyncBuffer
	s := newService(t, f, func(o *Options) {
		o.Metrics = NewMetrics(reg)
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ctx := context.Background()
	a01 := v2ingesttest.WithControlID(sample(t, "adt-a01.hl7"), "RACE1")
	a08 := v2ingesttest.WithControlID(sample(t, "adt-a08.hl7"), "RACE1")
	parked, release := make(chan struct{}), make(chan struct{})
	f.hook = func(_ string, n int) {
		if n == 1 { // the A01, sent first
			close(parked)
			<-release
		}
	}
	done := make(chan [][]byte, 1)
	go func() { done <- s.Handle(ctx, a01) }()
	<-parked
	if got := ackOf(t, s.Handle(ctx, a08)); got != "AA" {
		t.Fatalf("A08: ACK %s", got)
	}
	_, patID := v2ingesttest.VisitIDs(t, a08)
	_, version := storedJSON(t, f, "Patient", patID)
	close(release)
	frames := <-done
	if len(frames) != 1 {
		t.Fatalf("%d frames, want one ACK", len(frames))
	}
	ack := parseACK(t, frames[0])
	if e := ack.First("ERR"); ack.First("MSA").Value(1, 1) != "AA" || errAt(ack) != "MSH-10 207" || e.Get("4") != "W" {
		t.Errorf("A01 under the A08's id: ACK %s ERR %s severity %q, want AA with a W at MSH-10 207", ack.First("MSA").Value(1, 1), errAt(ack), e.Get("4"))
	}
	if n := v2ingesttest.CounterValue(t, reg, "codebridge_hl7_control_id_reused_total"); n != 1 {
		t.Errorf("codebridge_hl7_control_id_reused_total = %v, want 1", n)
	}
	if _, v := storedJSON(t, f, "Patient", patID); v != version {
		t.Errorf("the A01 under a re-used id wrote the Patient (version %d -> %d)", version, v)
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

// TestHandleWithdrawnVisit: a visit withdrawn through FHIR (deleted, no
// current version) is written back as entered-in-error when the feed
// sends a later update for it, not brought back to life.
func TestHandleWithdrawnVisit(t *testing.T) {
	f := newFakeStore()
	s := newService(t, f, nil)
	a08 := sample(t, "adt-a08.hl7")
	encID, _ := v2ingesttest.VisitIDs(t, a08)
	f.withdrawn["Encounter/"+encID] = true
	if got := ackOf(t, s.Handle(context.Background(), a08)); got != "AA" {
		t.Fatalf("A08: ACK %s", got)
	}
	if enc, _ := storedJSON(t, f, "Encounter", encID); enc["status"] != "entered-in-error" {
		t.Errorf("Encounter status %v, want entered-in-error", enc["status"])
	}
}

// TestHandleProcessingID: MSH-11 must be a processing id the listener
// takes (P by default): another is AR 202, an empty one AE 101, and
// neither stores anything.
func TestHandleProcessingID(t *testing.T) {
	tests := []struct {
		name     string
		accepted []string // nil: the default
		msh11    string
		want     string
	}{
		{"default takes production", nil, "P", "AA"},
		{"default takes production, any case", nil, "p", "AA"},
		{"default refuses training", nil, "T", "AR MSH-11 202"},
		{"default refuses debugging, with a mode", nil, "D^T", "AR MSH-11 202"},
		{"test system takes training", []string{"P", "T"}, "T", "AA"},
		{"test system refuses debugging", []string{"P", "T"}, "D", "AR MSH-11 202"},
		{"empty", nil, "", "AE MSH-11 101"},
		{"null", nil, `""`, "AE MSH-11 101"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeStore()
			s := newService(t, f, func(o *Options) { o.ProcessingIDs = tt.accepted })
			msg := v2ingesttest.WithMSH(sample(t, "adt-a01-minimal.hl7"), 11, tt.msh11)
			if got := ackOf(t, s.Handle(context.Background(), msg)); got != tt.want {
				t.Errorf("MSH-11 %q: ACK %s, want %s", tt.msh11, got, tt.want)
			}
			if stored := f.writes > 0; stored != (tt.want == "AA") {
				t.Errorf("MSH-11 %q: %d writes", tt.msh11, f.writes)
			}
		})
	}
}

// TestHandleEnhancedMode: MSH-15/16 AL get the accept ACK (CA) and then
// the application ACK; original mode gets the application ACK alone.
func TestHandleEnhancedMode(t *testing.T) {
	tests := []struct {
		name string
		msg  func([]byte) []byte
		want []string
	}{
		{"original", func(m []byte) []byte { return m }, []string{"AA"}},
		{"AL AL", func(m []byte) []byte { return v2ingesttest.WithMSH(v2ingesttest.WithMSH(m, 15, "AL"), 16, "AL") }, []string{"CA", "AA"}},
		{"NE AL", func(m []byte) []byte { return v2ingesttest.WithMSH(v2ingesttest.WithMSH(m, 15, "NE"), 16, "AL") }, []string{"AA"}},
		{"AL ER, accepted", func(m []byte) []byte { return v2ingesttest.WithMSH(v2ingesttest.WithMSH(m, 15, "AL"), 16, "ER") }, []string{"CA"}},
		{"ER SU, refused", func(m []byte) []byte {
			return v2ingesttest.WithMSH(v2ingesttest.WithMSH(v2ingesttest.WithMSH(m, 11, "T"), 15, "ER"), 16, "SU")
		}, []string{"CR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t, newFakeStore(), nil)
			var got []string
			for _, f := range s.Handle(context.Background(), tt.msg(sample(t, "adt-a01-minimal.hl7"))) {
				got = append(got, parseACK(t, f).First("MSA").Value(1, 1))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ACK codes: mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOversized: a frame over the limit is AR 207, answered from the MSH
// at its head.
func TestOversized(t *testing.T) {
	s := newService(t, newFakeStore(), nil)
	head := sample(t, "adt-a01.hl7")[:200]
	ack := parseACK(t, s.Oversized(1024)(head))
	if got := ack.First("MSA").Value(1, 1) + " " + ack.First("MSA").Value(2, 1) + " " + ack.First("ERR").Get("3.1"); got != "AR CB0001 207" {
		t.Errorf("oversized: MSA-1, MSA-2, ERR-3 %q, want AR CB0001 207", got)
	}
	if text := ack.First("ERR").Get("3.2"); !strings.Contains(text, "1024 bytes") {
		t.Errorf("ERR text %q does not name the limit", text)
	}
}

// TestMessageHash: the content hash of a message key ignores what a
// resend may change (framing, BOM, trailing whitespace, MSH-7, MSH-13) and
// nothing else.
func TestMessageHash(t *testing.T) {
	const base = "MSH|^~\\&|ADTSYS|CBHOSP|CODEBRIDGE|CBFAC|20250314083000-0500||ADT^A08^ADT_A01|CB0002|P|2.5.1\r" +
		"PID|1||CB000123^^^CBHOSP^MR||ZZTEST^ALEX\r"
	tests := []struct {
		name string
		msg  string
		same bool
	}{
		{"identical", base, true},
		{"CRLF", strings.ReplaceAll(base, "\r", "\r\n"), true},
		{"LF", strings.ReplaceAll(base, "\r", "\n"), true},
		{"BOM, a blank line first, trailing whitespace", "\xef\xbb\xbf\r\n" + base + " \r\n", true},
		{"other MSH-7", strings.Replace(base, "20250314083000-0500", "20250314093512-0500", 1), true},
		{"MSH-7 empty", strings.Replace(base, "20250314083000-0500", "", 1), true},
		{"MSH-13 added", strings.Replace(base, "|2.5.1\r", "|2.5.1|17\r", 1), true},
		{"trailing empty MSH fields", strings.Replace(base, "|2.5.1\r", "|2.5.1||||\r", 1), true},
		{"other delimiters, same fields", strings.NewReplacer("|", "#", "^", "$").Replace(base), false},
		{"other PID", strings.Replace(base, "ALEX", "ALEJANDRA", 1), false},
		{"other event", strings.Replace(base, "ADT^A08", "ADT^A03", 1), false},
		{"other MSH-11", strings.Replace(base, "|P|", "|T|", 1), false},
		{"other MSH-12", strings.Replace(base, "2.5.1", "2.5", 1), false},
		{"MSH-14 added", strings.Replace(base, "|2.5.1\r", "|2.5.1||X\r", 1), false},
		{"an MSH-7 lookalike in PID", strings.Replace(base, "ZZTEST", "20250314083000-0500", 1), false},
	}
	want := messageHash([]byte(base))
	if len(want) != 32 {
		t.Fatalf("hash of %d bytes, want a SHA-256", len(want))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := messageHash([]byte(tt.msg)); bytes.Equal(got, want) != tt.same {
				t.Errorf("same hash = %v, want %v", !tt.same, tt.same)
			}
		})
	}
}

// TestParseRefusal: a message that does not parse is AR when its type,
// event or version is one codebridge does not take (the sender must not
// resend it as it is, but it is not bad content), else AE at where it broke.
func TestParseRefusal(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"unsupported version", &hl7v2.ParseError{Segment: "MSH", Seq: 1, Field: 12, Code: "203"}, "AR MSH-12 203"},
		{"unsupported type", &hl7v2.ParseError{Segment: "MSH", Seq: 1, Field: 9, Code: "200"}, "AR MSH-9 200"},
		{"segment sequence", &hl7v2.ParseError{Segment: "PID", Seq: 1, Code: "100"}, "AE PID- 100"},
		{"not a ParseError", errors.New("boom"), "AE MSH- 207"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, d := parseRefusal(tt.err)
			got := code + " " + d.Segment + "-" + strings.TrimPrefix(fmt.Sprint(d.Field), "0") + " " + d.Code
			if got != tt.want {
				t.Errorf("parseRefusal = %q, want %q", got, tt.want)
			}
		})
	}
}
