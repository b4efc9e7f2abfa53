package kafkain

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// The end-to-end behaviour (broker, database, dead-letter topic, group)
// is tested in cmd/codebridge/inbound_test.go; these cover the verdicts.

func TestJudge(t *testing.T) {
	down := errors.New("dial tcp: connection refused")
	invalid := workitem.Errorf(workitem.Invalid, "body is not JSON").WithIssues(workitem.Issue{Severity: "error", Code: "structure", Diagnostics: "unexpected end"})
	stale := workitem.Errorf(workitem.Precondition, "Patient/p8: If-Match version 4 does not match the current version 0")
	tests := []struct {
		name      string
		res       ingest.Result
		err       error
		want      verdict
		wantFault bool
	}{
		{name: "ingested", res: ingest.Result{Entries: []ingest.Entry{{Status: 201}}}, want: verdict{outcome: outcomeIngested}},
		{name: "skipped only", res: ingest.Result{Entries: []ingest.Entry{{Status: 200, Skipped: "Observation is not used"}}}, want: verdict{outcome: outcomeIngested}},
		{name: "rejected with issues", err: fmt.Errorf("wrapped: %w", invalid),
			want: verdict{outcome: outcomeRejected, kind: workitem.Invalid, issues: invalid.Issues}},
		{name: "rejected without issues", err: stale,
			want: verdict{outcome: outcomeRejected, kind: workitem.Precondition, issues: []workitem.Issue{{Severity: "error", Code: "conflict", Diagnostics: stale.Message}}}},
		{name: "partial batch", res: ingest.Result{BundleType: "batch", Entries: []ingest.Entry{{Status: 201}, {Index: 1, Err: stale}}},
			want: verdict{outcome: outcomePartial, kind: workitem.Precondition, issues: []workitem.Issue{
				{Severity: "error", Code: "conflict", Diagnostics: stale.Message, Expression: []string{"Bundle.entry[1]"}}}}},
		{name: "database down", err: down, wantFault: true},
		{name: "transient", err: workitem.Errorf(workitem.Transient, "database unavailable"), wantFault: true},
		{name: "batch entry hit a receiver fault", res: ingest.Result{BundleType: "batch", Entries: []ingest.Entry{
			{Index: 0, Err: stale}, {Index: 1, Err: &workitem.Error{Kind: workitem.Internal, Message: "internal error", Err: down}}}}, wantFault: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fault := judge(tt.res, tt.err)
			if (fault != nil) != tt.wantFault {
				t.Fatalf("fault = %v, want fault: %v", fault, tt.wantFault)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(verdict{})); diff != "" {
				t.Errorf("verdict mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeadLetterHeaders(t *testing.T) {
	in := kafka.Message{Topic: "in", Partition: 3, Offset: 42, Key: []byte("k"), Value: []byte("v"), Headers: []kafka.Header{
		{Key: "traceparent", Value: []byte("00-abc")}, {Key: headerOO, Value: []byte("from an earlier dead-lettering")}}}
	v := verdict{outcome: outcomeRejected, kind: workitem.Unprocessable,
		issues: []workitem.Issue{{Severity: "error", Code: "processing", Diagnostics: "bad", Expression: []string{"Encounter.status"}}}}
	got := map[string]string{}
	for _, h := range deadLetterHeaders(in, v) {
		if _, dup := got[h.Key]; dup {
			t.Errorf("header %s twice", h.Key)
		}
		got[h.Key] = string(h.Value)
	}
	want := map[string]string{
		"traceparent": "00-abc",
		headerOO:      `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing","diagnostics":"bad","expression":["Encounter.status"]}]}`,
		headerKind:    "unprocessable", headerOutcome: "rejected",
		headerTopic: "in", headerPartition: "3", headerOffset: "42",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers mismatch (-want +got):\n%s", diff)
	}
	if !json.Valid([]byte(got[headerOO])) {
		t.Error("operation outcome is not JSON")
	}
}

func TestSeedAndBackoff(t *testing.T) {
	a := kafka.Message{Topic: "in", Partition: 1, Offset: 7, Value: []byte(`{"resourceType":"Patient"}`)}
	b := a
	b.Value = []byte(`{"resourceType":"Patient","gender":"male"}`)
	c := a
	c.Offset = 8
	if seedOf(a) != seedOf(a) || seedOf(a) == seedOf(b) || seedOf(a) == seedOf(c) {
		t.Errorf("seed must name topic, partition, offset and value: %s %s %s", seedOf(a), seedOf(b), seedOf(c))
	}
	bo := &backoff{min: 100 * time.Millisecond, max: time.Second}
	var got []time.Duration
	for range 6 {
		got = append(got, bo.next())
	}
	bo.reset()
	got = append(got, bo.next())
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second, 100 * time.Millisecond}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backoff mismatch (-want +got):\n%s", diff)
	}
	if tooLarge(errors.New("x")) || !tooLarge(kafka.WriteErrors{kafka.MessageSizeTooLarge}) || !tooLarge(kafka.MessageTooLargeError{}) {
		t.Error("tooLarge misjudges size errors")
	}
}
