package fhir

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	r4outcomepb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/operation_outcome_go_proto"
)

func TestOperationOutcomeReparses(t *testing.T) {
	tests := [][]Issue{
		nil,
		{NewIssue(SeverityError, IssueStructure, "unknown field: \"bogus\"", "Condition.bogus")},
		{NewIssue(SeverityWarning, IssueCodeInvalid, "x"), NewIssue(SeverityError, IssueTooLong, "", "Bundle.entry[3].resource.status", "Encounter.class")},
		{NewIssue("weird", "not-a-code", "bad \xff utf8")},
	}
	for _, issues := range tests {
		out := OperationOutcome(issues...)
		res, err := parser(t).Parse(out)
		if err != nil {
			t.Fatalf("OperationOutcome(%v) = %s does not re-parse: %v", issues, out, err)
		}
		oo := res.Msg.(*r4outcomepb.OperationOutcome)
		if want := max(1, len(issues)); len(oo.GetIssue()) != want {
			t.Errorf("issues = %d, want %d", len(oo.GetIssue()), want)
		}
	}
}

func TestOperationOutcomeFromParseError(t *testing.T) {
	_, err := parser(t).Parse([]byte(`{"resourceType":"Condition","subject":{"reference":"Patient/1"},"onsetDateTime":"2020-13-45"}`))
	var got struct {
		Issue []struct {
			Severity, Code, Diagnostics string
			Expression                  []string
		}
	}
	if err := json.Unmarshal(OperationOutcomeFor(err), &got); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		Severity, Code, Diagnostics string
		Expression                  []string
	}{{"error", "value", `expected datetime: found "2020-13-45"`, []string{"Condition.onsetDateTime"}}}
	if diff := cmp.Diff(want, got.Issue); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(OperationOutcomeFor(errors.New("boom"))), `"exception"`) {
		t.Error("generic error not rendered as exception")
	}
}

func TestSetMeta(t *testing.T) {
	when := time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.FixedZone("x", 3600))
	tests := []struct{ name, in, want string }{
		{"no meta", `{"resourceType":"Patient","id":"1"}`,
			`{"meta":{"lastUpdated":"2024-05-06T06:08:09.123Z","versionId":"3"},"resourceType":"Patient","id":"1"}`},
		{"meta kept", "{\"resourceType\":\"Patient\",\n \"meta\": {\"versionId\":\"1\",\"tag\":[{\"code\":\"t\"}]},\"id\":\"1\"}",
			"{\"resourceType\":\"Patient\",\n \"meta\": {\"lastUpdated\":\"2024-05-06T06:08:09.123Z\",\"tag\":[{\"code\":\"t\"}],\"versionId\":\"3\"},\"id\":\"1\"}"},
		{"nested meta untouched", `{"resourceType":"Patient","contained":[{"resourceType":"Organization","meta":{"versionId":"9"}}]}`,
			`{"meta":{"lastUpdated":"2024-05-06T06:08:09.123Z","versionId":"3"},"resourceType":"Patient","contained":[{"resourceType":"Organization","meta":{"versionId":"9"}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SetMeta([]byte(tt.in), "3", when)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if _, err := parser(t).Parse(got); err != nil {
				t.Errorf("result does not parse: %v", err)
			}
		})
	}
	if _, err := SetMeta([]byte(`[1]`), "1", when); err == nil {
		t.Error("SetMeta on array succeeded")
	}
}
