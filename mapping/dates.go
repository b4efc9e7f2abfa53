package mapping

import (
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// The date of service.
//
// A date of service is a calendar date where the service happened, not an
// instant: a visit on 2025-09-30 at 21:00 -05:00 is a FY2025 visit although
// it is 2025-10-01 in UTC. So:
//
//   - a time sent with a UTC offset other than zero is dated in that
//     offset (the EHR told us the local time);
//   - a time sent in UTC ("Z", or +00:00) is dated in the facility time
//     zone (CODEBRIDGE_FACILITY_TIMEZONE, passed here as a *time.Location;
//     nil means UTC);
//   - a bare date is that date.
//
// Which date chooses the code sets (the encounter's start, the discharge
// date of an inpatient stay, or each professional line's own date) is the
// edit engine's rule (edits.Chart); the Claim shows the same dates
// (billablePeriod, item.servicedDate), because both are computed here from
// the chart.

// localDate returns the local calendar date (midnight UTC, as the edits
// and codes packages hold civil dates) of a dateTime as sent (see
// fhir.AsSent), or the zero time when sent is empty or not a date.
func localDate(sent string, loc *time.Location) time.Time {
	if len(sent) < len(time.DateOnly) {
		return time.Time{} // a year or a month is no date of service
	}
	if len(sent) == len(time.DateOnly) {
		d, err := time.Parse(time.DateOnly, sent)
		if err != nil {
			return time.Time{}
		}
		return d
	}
	t, err := time.Parse(time.RFC3339Nano, sent)
	if err != nil {
		return time.Time{}
	}
	if _, off := t.Zone(); off == 0 && loc != nil {
		t = t.In(loc)
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// asSent is a dateTime as sent: sent itself when known, else (a chart or
// summary stored before the as-sent form was kept) t in its own offset,
// where a UTC midnight is read as the bare date it almost always was
// (the validating parser stores a date-only value as that midnight).
func asSent(sent string, t *time.Time) string {
	switch {
	case sent != "":
		return sent
	case t == nil || t.IsZero():
		return ""
	}
	if _, off := t.Zone(); off == 0 && t.Equal(t.Truncate(24*time.Hour)) {
		return t.UTC().Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}

// EncounterDates returns the local calendar dates of a chart's encounter
// start and end (zero when absent), in the facility time zone loc for
// times sent in UTC (nil: UTC). EditChart and the Claim both date the
// encounter with it.
func EncounterDates(e workitem.EncounterView, loc *time.Location) (start, end time.Time) {
	return localDate(asSent(e.StartAsSent, e.Start), loc), localDate(asSent(e.EndAsSent, e.End), loc)
}
