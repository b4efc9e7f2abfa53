package main

// Benchmarks of the outbox relay on the real PostgreSQL outbox store, moved
// here from adapters/kafkapub with the tests
// (relay_test.go).

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/kafkapub"
	"github.com/codebridge/codebridge/adapters/kafkapub/relaytest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// BenchmarkRelaySteady1000 commits ~1,000 changes/s over 200 encounters for
// 3 s with one relay running, and measures commit-to-relayConsumer latency with a
// kafka-go relayConsumer. Each value carries the time its transaction started
// committing, so the latency includes the commit itself.
func BenchmarkRelaySteady1000(b *testing.B) {
	for _, relays := range []int{1, 2} {
		b.Run(fmt.Sprintf("relays=%d", relays), func(b *testing.B) { benchRelaySteady(b, relays) })
	}
}

func benchRelaySteady(b *testing.B, relays int) {
	e := newRelayEnv(b, kafkapub.EmbeddedOptions{})
	c := relaytest.Consume(b, e.Opts.Brokers)
	for range relays {
		e.StartRelay(b, kafkapub.RelayOptions{})
	}
	const writers, perSecond, keys = 20, 1000, 200
	dur := 3 * time.Second
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			tick := time.NewTicker(time.Second * writers / perSecond)
			defer tick.Stop()
			for i := 0; time.Since(start) < dur; i++ {
				<-tick.C
				key := fmt.Sprintf("Encounter/%d", (w*7919+i)%keys)
				m := workitem.Message{Topic: relaytest.Topic, Key: key, Value: strconv.AppendInt(nil, time.Now().UnixNano(), 10)}
				if err := e.store.Enqueue(context.Background(), m); err != nil {
					b.Error(err)
				}
			}
		})
	}
	wg.Wait()
	produced := time.Since(start)
	var total int
	_ = e.db.QueryRow(`SELECT count(*) FROM outbox`).Scan(&total)
	msgs := c.WaitDistinct(b, total, 30*time.Second)
	reportRelayLatency(b, msgs, total, produced)
}

// reportRelayLatency reports p50/p99/max commit-to-consume latency and the rate.
func reportRelayLatency(b *testing.B, msgs []kafka.Message, total int, elapsed time.Duration) {
	lat := make([]float64, 0, len(msgs))
	for _, m := range msgs {
		sent, err := strconv.ParseInt(strings.TrimSpace(string(m.Value)), 10, 64)
		if err != nil {
			continue
		}
		lat = append(lat, float64(m.Time.Sub(time.Unix(0, sent)).Microseconds())/1000)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return lat[int(p*float64(len(lat)-1))] }
	b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(lat[len(lat)-1], "max-ms")
}

// BenchmarkRelayDrain measures relay throughput: 10,000 committed records
// over 1,000 keys drained by one relay, then by two.
func BenchmarkRelayDrain(b *testing.B) {
	for _, relays := range []int{1, 2} {
		b.Run(fmt.Sprintf("relays=%d", relays), func(b *testing.B) {
			e := newRelayEnv(b, kafkapub.EmbeddedOptions{})
			const n, keys = 10000, 1000
			_, err := e.db.Exec(`WITH k AS (
    INSERT INTO outbox_keys (key, last_seq) SELECT 'Encounter/' || g, $2 FROM generate_series(1, $1::int) g)
INSERT INTO outbox (topic, key, seq, value)
SELECT $3, 'Encounter/' || (i % $1), i / $1 + 1, convert_to(lpad('', 400, 'x'), 'UTF8')
FROM generate_series(0, $1 * $2 - 1) i`, keys, n/keys, relaytest.Topic)
			if err != nil {
				b.Fatal(err)
			}
			c := relaytest.Consume(b, e.Opts.Brokers)
			b.ResetTimer()
			start := time.Now()
			for range relays {
				e.StartRelay(b, kafkapub.RelayOptions{})
			}
			c.WaitDistinct(b, n, 60*time.Second)
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
		})
	}
}
