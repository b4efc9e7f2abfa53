package bench

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// printSummary writes the human summary of r.
func (r *Report) printSummary(w io.Writer) {
	o, m := r.Options, r.Machine
	fmt.Fprintf(w, "codebridge bench: %s at concurrency %d against %s, mix %s, seed %d\n",
		fmtSecs(o.Seconds), o.Concurrency, o.URL, o.Mix, o.Seed)
	fmt.Fprintf(w, "machine: %d CPUs (GOMAXPROCS %d), %s, %.1f GiB, %s %s; codebridge %s, server %s; load average %s -> %s\n",
		m.CPUs, m.GOMAXPROCS, orElse(m.CPUModel, "unknown CPU"), float64(m.MemTotalBytes)/(1<<30), m.GoVersion, m.OS,
		m.Version, orElse(m.ServerVersion, "unknown"), orElse(m.LoadAvgStart, "?"), orElse(m.LoadAvgEnd, "?"))
	r.printIngest(w)
	r.printBounds(w)
}

// printIngest writes the preload, load and end-to-end parts of the summary.
func (r *Report) printIngest(w io.Writer) {
	if p := r.Preload; p != nil {
		fmt.Fprintf(w, "\npreload: %s resources in %d Bundles in %s (%s resources/s), errors %s, retried %s; events settled in %s\n",
			fmtInt(p.Resources), p.Bundles, fmtSecs(p.Seconds), fmtNum(p.ResourcesPerSec), fmtErrors(p.Errors),
			fmtErrors(p.Retries), fmtSecs(p.SettleSeconds))
	}
	l := r.Load
	fmt.Fprintf(w, "\ningest (POST /fhir, one visit per transaction Bundle), %s\n", fmtSecs(l.Seconds))
	fmt.Fprintf(w, "  bundles    %s sent, %s accepted, %s/s\n", fmtInt(l.BundlesSent), fmtInt(l.BundlesAccepted), fmtNum(l.BundlesPerSec))
	fmt.Fprintf(w, "  resources  %s accepted, %s/s\n", fmtInt(l.Resources), fmtNum(l.ResourcesPerSec))
	fmt.Fprintf(w, "  latency    %s\n", fmtLatency(l.Latency))
	fmt.Fprintf(w, "  errors     %s; retried %s\n", fmtErrors(l.Errors), fmtErrors(l.Retries))
	for _, s := range sortedKeys(l.ErrorDetails) {
		fmt.Fprintf(w, "    first %s: %s\n", s, l.ErrorDetails[s])
	}
	var visits []string
	for _, k := range sortedKinds(l.Visits) {
		visits = append(visits, fmt.Sprintf("%s %d", k, l.Visits[k]))
	}
	fmt.Fprintf(w, "  visits     %s\n", strings.Join(visits, ", "))
	if e := r.EndToEnd; e != nil {
		fmt.Fprintf(w, "\nend to end (Kafka consumer from the end offsets at start; drained %s)\n", fmtSecs(e.DrainSeconds))
		fmt.Fprintf(w, "  ingest -> status event ready  %d of %d visits      %s\n", e.ReadyEvents, e.Accepted, fmtLatency(e.Ready))
		fmt.Fprintf(w, "  ingest -> Claim on Kafka      %d of %d outpatient  %s\n", e.Claims, e.Outpatient, fmtLatency(e.Claim))
		fmt.Fprintf(w, "  Claims arrived at %s/s (first send to last Claim); visits were accepted at %s/s\n",
			fmtNum(e.ClaimsPerSec), fmtNum(r.Load.BundlesPerSec))
	}
}

// printBounds writes the bounds part of the summary.
func (r *Report) printBounds(w io.Writer) {
	fmt.Fprintf(w, "\nbounds on this machine, same Bundles, after the load\n")
	for _, b := range []struct {
		name string
		b    *Bound
		unit string
	}{{"parse", r.Bounds.Parse, "resources/s"}, {"postgres", r.Bounds.Postgres, "rows/s"}} {
		switch {
		case b.b == nil:
			fmt.Fprintf(w, "  %-9s not measured\n", b.name)
		case b.b.Error != "":
			fmt.Fprintf(w, "  %-9s failed: %s\n", b.name, b.b.Error)
		default:
			fmt.Fprintf(w, "  %-9s %s %s on %d goroutines (%s); the service reached %.1f%% of it\n    (%s)\n",
				b.name, fmtNum(b.b.PerSecond), b.unit, b.b.Goroutines, fmtSecs(b.b.Seconds), 100*b.b.ServiceShare, b.b.What)
		}
	}
}

// metric is one figure compared between runs.
type metric struct {
	name   string
	value  float64
	higher bool // higher is better
}

func (r *Report) metrics() []metric {
	l := r.Load
	out := []metric{
		{"resources/s", l.ResourcesPerSec, true}, {"bundles/s", l.BundlesPerSec, true},
		{"latency p50 ms", l.Latency.P50, false}, {"latency p95 ms", l.Latency.P95, false},
		{"latency p99 ms", l.Latency.P99, false}, {"latency max ms", l.Latency.Max, false},
		{"errors", float64(l.BundlesSent - l.BundlesAccepted), false},
	}
	if e := r.EndToEnd; e != nil {
		out = append(out, metric{"ingest->ready p50 ms", e.Ready.P50, false}, metric{"ingest->ready p99 ms", e.Ready.P99, false},
			metric{"ingest->Claim p50 ms", e.Claim.P50, false}, metric{"ingest->Claim p99 ms", e.Claim.P99, false},
			metric{"Claims/s", e.ClaimsPerSec, true})
	}
	if b := r.Bounds.Parse; b != nil && b.Error == "" {
		out = append(out, metric{"parse bound resources/s", b.PerSecond, true}, metric{"share of parse bound %", 100 * b.ServiceShare, true})
	}
	if b := r.Bounds.Postgres; b != nil && b.Error == "" {
		out = append(out, metric{"postgres bound rows/s", b.PerSecond, true}, metric{"share of postgres bound %", 100 * b.ServiceShare, true})
	}
	if p := r.Preload; p != nil {
		out = append(out, metric{"preload resources/s", p.ResourcesPerSec, true})
	}
	return out
}

// printCompare writes the deltas from old to r, figure by figure.
func (r *Report) printCompare(w io.Writer, old *Report, oldName string) {
	fmt.Fprintf(w, "\ncompared with %s (%s, %d CPUs, codebridge %s, concurrency %d, %s, mix %s):\n",
		oldName, old.Started.Format("2006-01-02 15:04 MST"), old.Machine.CPUs, old.Machine.Version,
		old.Options.Concurrency, fmtSecs(old.Options.Seconds), old.Options.Mix)
	prev := map[string]float64{}
	for _, m := range old.metrics() {
		prev[m.name] = m.value
	}
	fmt.Fprintf(w, "  %-27s %12s %12s  %s\n", "figure", "old", "new", "change")
	for _, m := range r.metrics() {
		was, ok := prev[m.name]
		if !ok {
			fmt.Fprintf(w, "  %-27s %12s %12s\n", m.name, "-", fmtNum(m.value))
			continue
		}
		change := "n/a"
		if was != 0 {
			d := 100 * (m.value - was) / was
			verdict := ""
			if math.Abs(d) >= 5 && (d > 0) == m.higher {
				verdict = " better"
			} else if math.Abs(d) >= 5 {
				verdict = " worse"
			}
			change = fmt.Sprintf("%+.1f%%%s", d, verdict)
		}
		fmt.Fprintf(w, "  %-27s %12s %12s  %s\n", m.name, fmtNum(was), fmtNum(m.value), change)
	}
}

func fmtLatency(l Latency) string {
	if l.Count == 0 {
		return "none"
	}
	return fmt.Sprintf("p50 %s ms, p95 %s ms, p99 %s ms, max %s ms", fmtNum(l.P50), fmtNum(l.P95), fmtNum(l.P99), fmtNum(l.Max))
}

func fmtErrors(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%d x %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orElse(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func fmtSecs(s float64) string { return fmt.Sprintf("%.1f s", s) }

// fmtNum renders a figure with thousands separators and a precision
// that suits its size.
func fmtNum(v float64) string {
	switch {
	case math.Abs(v) >= 1000:
		return fmtInt(int64(math.Round(v)))
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func fmtInt(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
