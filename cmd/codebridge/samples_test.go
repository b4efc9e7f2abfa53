package main

import (
	"strings"
	"testing"
	"time"
)

func TestRedateSample(t *testing.T) {
	raw := []byte(`{"birthDate":"1971-04-12","period":{"start":"2026-03-10T14:00:00Z","end":"2026-03-10T14:20:00Z"},` +
		`"performedDateTime":"2026-03-10T23:30:00-05:00","date":"2026-03-11T00:05:00Z","id":"V-2026-0042"}`)
	now := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	got, err := redateSample(raw, now, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"birthDate":"1971-04-12"`,                        // a date without time stays
		`"start":"2026-12-05T14:00:00Z"`,                  // the earliest day lands 3 days before today
		`"end":"2026-12-05T14:20:00Z"`,                    // times of day are kept
		`"performedDateTime":"2026-12-05T23:30:00-05:00"`, // offsets are kept
		`"date":"2026-12-06T00:05:00Z"`,                   // later days keep their distance
		`"id":"V-2026-0042"`,
	} {
		if !strings.Contains(string(got), want) {
			t.Errorf("redated sample lacks %s:\n%s", want, got)
		}
	}
	// Across a month and year end.
	got, _ = redateSample([]byte(`{"a":"2026-12-31T10:00:00Z","b":"2027-01-01T10:00:00Z"}`), time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC), 3)
	if string(got) != `{"a":"2027-02-27T10:00:00Z","b":"2027-02-28T10:00:00Z"}` {
		t.Errorf("redated = %s", got)
	}
}
