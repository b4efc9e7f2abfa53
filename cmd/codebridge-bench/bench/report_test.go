package bench

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBenchSummarize(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var out []time.Duration
		for _, n := range ns {
			out = append(out, time.Duration(n)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // unsorted on purpose
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Latency
	}{
		{"none", nil, Latency{}},
		{"one", ms(7), Latency{Count: 1, P50: 7, P95: 7, P99: 7, Max: 7}},
		{"nearest rank of 1..100", ms(hundred...), Latency{Count: 100, P50: 50, P95: 95, P99: 99, Max: 100}},
		{"four", ms(40, 10, 30, 20), Latency{Count: 4, P50: 20, P95: 40, P99: 40, Max: 40}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, summarize(tt.in)); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestBenchNumbers(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.00"}, {3.14159, "3.14"}, {42.25, "42.2"}, {326.4, "326"}, {1149.4, "1,149"}, {21703.2, "21,703"}, {-1234567, "-1,234,567"},
	}
	for _, tt := range tests {
		if got := fmtNum(tt.in); got != tt.want {
			t.Errorf("fmtNum(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
