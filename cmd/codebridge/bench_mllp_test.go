package main

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/mllp"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/v2ingest/v2ingesttest"
)

// BenchmarkMLLP measures HL7 v2 over MLLP end to end: 8 senders, each on
// its own connection, send ADT^A01 messages for distinct visits and wait for
// each ACK, which comes only after the database commit. It reports
// messages/s and the ACK latency percentiles.
func BenchmarkMLLP(b *testing.B) {
	const senders = 8
	m := startMain(b, pgtest.NewURL(b), func(c *config.Config) { c.MLLPAddr = "127.0.0.1:0" })
	a01 := hl7Sample(b, "adt-a01.hl7")
	var seq atomic.Int64
	next := func() []byte {
		n := seq.Add(1)
		// A feed: one facility and its doctors, a new patient and visit each time.
		msg := bytes.Replace(a01, []byte("V20250314001"), fmt.Appendf(nil, "VB%010d", n), 1)
		msg = bytes.ReplaceAll(msg, []byte("CB000123"), fmt.Appendf(nil, "PB%06d", n))
		return v2ingesttest.WithControlID(msg, fmt.Sprintf("BENCH%012d", n))
	}
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	per := max(1, b.N/senders)
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := mllp.Dial(context.Background(), m.MLLPAddr, nil)
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			var mine []time.Duration
			for range per {
				msg := next()
				t0 := time.Now()
				ack, err := c.Send(context.Background(), msg)
				if err != nil || !bytes.Contains(ack, []byte("MSA|AA|")) {
					b.Errorf("send: %v %q", err, ack)
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(percentile(lat, 0.5), "ack-p50-ms")
	b.ReportMetric(percentile(lat, 0.99), "ack-p99-ms")
}
