package v2fhir

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// stamp is an HL7 v2 DTM/DT value read as FHIR: the dateTime (or date)
// text at the precision sent, and the instant it starts at for ordering.
type stamp struct {
	Text string    // FHIR dateTime: "2025", "2025-03", "2025-03-14" or "2025-03-14T08:30:00-05:00"
	Time time.Time // the instant, for comparisons
}

// parseDTM reads an HL7 DTM (YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ]) as
// a FHIR dateTime. Year, month and day precision stay as they are (FHIR
// allows them without a zone); anything with an hour gets minutes and
// seconds filled in and a zone: the one sent, else loc. ok is false for
// malformed or impossible values (month 13, 30 February, offset +2500).
func parseDTM(v string, loc *time.Location) (stamp, bool) {
	body, zone, hasZone := splitZone(v)
	digits, frac, _ := strings.Cut(body, ".")
	if !allDigits(digits) || !allDigits(frac) || (frac != "" && len(digits) != 14) || len(frac) > 4 {
		return stamp{}, false
	}
	switch len(digits) {
	case 4, 6, 8:
		if hasZone {
			return stamp{}, false // a zone on a date is not a FHIR dateTime
		}
		return partialDate(digits)
	case 10, 12, 14:
	default:
		return stamp{}, false
	}
	digits += strings.Repeat("0", 14-len(digits))
	if hasZone {
		z, ok := parseZone(zone)
		if !ok {
			return stamp{}, false
		}
		loc = z
	}
	t, ok := civil(digits, loc)
	if !ok {
		return stamp{}, false
	}
	if frac != "" {
		n, _ := strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
		t = t.Add(time.Duration(n))
		frac = "." + frac
	}
	return stamp{Text: t.Format("2006-01-02T15:04:05") + frac + t.Format("Z07:00"), Time: t}, true
}

// parseDate reads an HL7 DT or DTM as a FHIR date, at most day precision
// (PID-7 birth date, IN1-12/13 plan dates): the time of day is dropped.
func parseDate(v string) (string, bool) {
	body, _, _ := splitZone(v)
	body, _, _ = strings.Cut(body, ".")
	if len(body) > 8 {
		if !allDigits(body) {
			return "", false
		}
		body = body[:8]
	}
	s, ok := partialDate(body)
	return s.Text, ok
}

// partialDate reads YYYY, YYYYMM or YYYYMMDD.
func partialDate(d string) (stamp, bool) {
	if !allDigits(d) {
		return stamp{}, false
	}
	switch len(d) {
	case 4:
		t, ok := civil(d+"0101000000", time.UTC)
		return stamp{Text: d, Time: t}, ok
	case 6:
		t, ok := civil(d+"01000000", time.UTC)
		return stamp{Text: d[:4] + "-" + d[4:6], Time: t}, ok
	case 8:
		t, ok := civil(d+"000000", time.UTC)
		return stamp{Text: d[:4] + "-" + d[4:6] + "-" + d[6:8], Time: t}, ok
	}
	return stamp{}, false
}

// civil builds the time of YYYYMMDDHHMMSS in loc, refusing values time.Date
// would normalise (month 13, hour 24, 31 April).
func civil(d string, loc *time.Location) (time.Time, bool) {
	n := func(i, j int) int { v, _ := strconv.Atoi(d[i:j]); return v }
	y, mo, day, h, mi, s := n(0, 4), n(4, 6), n(6, 8), n(8, 10), n(10, 12), n(12, 14)
	t := time.Date(y, time.Month(mo), day, h, mi, s, 0, loc)
	if y == 0 || t.Year() != y || int(t.Month()) != mo || t.Day() != day || t.Hour() != h || t.Minute() != mi || t.Second() != s {
		return time.Time{}, false
	}
	return t, true
}

// splitZone cuts a trailing +ZZZZ / -ZZZZ offset off a DTM.
func splitZone(v string) (body, zone string, ok bool) {
	if i := strings.LastIndexAny(v, "+-"); i >= 0 {
		return v[:i], v[i:], true
	}
	return v, "", false
}

// parseZone reads +HHMM / -HHMM as a fixed zone named like FHIR's offsets.
func parseZone(z string) (*time.Location, bool) {
	if len(z) != 5 || !allDigits(z[1:]) {
		return nil, false
	}
	h, _ := strconv.Atoi(z[1:3])
	m, _ := strconv.Atoi(z[3:5])
	if h > 14 || m > 59 {
		return nil, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	if off == 0 {
		return time.UTC, true
	}
	return time.FixedZone(fmt.Sprintf("%s:%s", z[:3], z[3:]), off), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
