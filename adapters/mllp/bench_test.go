package mllp_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/mllp"
)

// benchMessage is a typical ADT^A01 (synthetic, about 600 bytes).
const benchMessage = "MSH|^~\\&|EPIC|GENHOSP|CODEBRIDGE|CB|20240101120000||ADT^A01^ADT_A01|MSG00001|P|2.5.1|||AL|NE|USA|UNICODE UTF-8\r" +
	"EVN|A01|20240101120000|||USER1^TEST^USER\r" +
	"PID|1||MRN0001^^^GENHOSP^MR~999999999^^^USSSA^SS||TEST^PATIENT^A||19800101|F|||1 MAIN ST^^SPRINGFIELD^IL^62701^USA||^PRN^PH^^^217^5550100\r" +
	"PV1|1|I|4W^401^1^GENHOSP||||1234567890^ATTENDING^ALICE^^^DR^MD^^NPI|||MED||||1|||1234567890^ATTENDING^ALICE^^^DR^MD^^NPI|IN||BC|||||||||||||||||||GENHOSP|||||20240101110000\r" +
	"DG1|1||I10^Essential (primary) hypertension^I10|||A\r" +
	"IN1|1|BCBS01^BLUE CROSS|12345|BLUE CROSS BLUE SHIELD||||GRP001|||||||TEST^PATIENT^A|SEL|19800101\r"

// benchACK is what the trivial handler answers, about the size of an AA.
var benchACK = []byte("MSH|^~\\&|CODEBRIDGE|CB|EPIC|GENHOSP|20240101120000||ACK^A01^ACK|ACK00001|P|2.5.1\rMSA|AA|MSG00001\r")

// BenchmarkRoundTrip measures the transport's own ceiling: 8 concurrent
// clients, each sending a frame and waiting for its ACK, against a server
// whose handler answers at once. It reports messages/s and the p99
// round-trip latency.
func BenchmarkRoundTrip(b *testing.B) {
	const concurrency = 8
	h := mllp.HandlerFunc(func(context.Context, []byte) [][]byte { return [][]byte{benchACK} })
	ts := start(b, &mllp.Server{Handler: h, ReadTimeout: time.Minute, IdleTimeout: time.Minute})
	clients := make([]*mllp.Client, concurrency)
	for i := range clients {
		clients[i] = dial(b, ts.addr)
	}
	payload := []byte(benchMessage)
	var next atomic.Int64
	latencies := make([][]time.Duration, concurrency)
	b.ResetTimer()
	began := time.Now()
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			ctx := context.Background()
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				if _, err := c.Send(ctx, payload); err != nil {
					b.Error(err)
					return
				}
				latencies[i] = append(latencies[i], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	all := slices.Concat(latencies...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(len(all))/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
}
