package main

import (
	"context"
	"encoding/json"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
)

var encounterRefRE = regexp.MustCompile(`"Encounter/([^"]+)"`)

// BenchmarkClaimLatency measures, one visit at a time with code sets
// loaded: ingest (POST of the sample telehealth Bundle) → straight-through
// coding → Claim on Kafka, both as acknowledged by the broker (acked) and as
// read back by a kafka-go consumer group (consumed, which adds the
// consumer's own fetch loop); and, with auto-coding off, the submit call
// that commits a Claim.
func BenchmarkClaimLatency(b *testing.B) {
	b.Run("ingest-to-claim-on-kafka", benchIngestToKafka)
	b.Run("submit-to-claim-committed", benchSubmitToClaim)
}

func claimBenchMain(b *testing.B, auto bool) *Main {
	m := startMain(b, pgtest.NewURLWithBundledCodes(b), func(c *config.Config) { c.AutoCode = auto; c.QASampleRate = 0 })
	return m
}

func benchIngestToKafka(b *testing.B) {
	m := claimBenchMain(b, true)
	arrived := map[string]time.Time{}
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{m.KafkaAddr}, Topic: m.Config.ClaimsTopic, GroupID: "bench", StartOffset: kafka.FirstOffset, MaxWait: 10 * time.Millisecond,
		ReadBackoffMin: time.Millisecond, ReadBackoffMax: 5 * time.Millisecond})
	defer r.Close()
	go func() {
		for {
			msg, err := r.ReadMessage(ctx)
			if err != nil {
				return
			}
			if mm := encounterRefRE.FindSubmatch(msg.Value); mm != nil {
				mu.Lock()
				arrived[string(mm[1])] = time.Now()
				mu.Unlock()
			}
		}
	}()
	body := sample(b)
	var acked, consumed []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		enc := sendBench(b, m, body)
		acked = append(acked, waitClaimAcked(b, m, enc).Sub(start))
		for {
			mu.Lock()
			at, ok := arrived[enc]
			mu.Unlock()
			if ok {
				consumed = append(consumed, at.Sub(start))
				break
			}
			if time.Since(start) > 20*time.Second {
				b.Fatalf("no Claim on Kafka for Encounter/%s", enc)
			}
			time.Sleep(time.Millisecond)
		}
	}
	b.StopTimer()
	b.ReportMetric(percentile(acked, 0.5), "acked-p50-ms")
	b.ReportMetric(percentile(acked, 0.99), "acked-p99-ms")
	b.ReportMetric(percentile(consumed, 0.5), "consumed-p50-ms")
	b.ReportMetric(percentile(consumed, 0.99), "consumed-p99-ms")
}

// waitClaimAcked waits until the Claim of Encounter enc is on Kafka: its
// outbox row is marked sent, which the relay does only after the broker
// acknowledged the record from all in-sync replicas.
func waitClaimAcked(b *testing.B, m *Main, enc string) time.Time {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var sent time.Time
		err := m.DB.QueryRow(`SELECT o.sent_at FROM outbox o JOIN claims c ON o.key = 'Claim/' || c.id
			WHERE c.encounter_id = $1 AND o.state = 'sent' ORDER BY o.seq LIMIT 1`, enc).Scan(&sent)
		if err == nil {
			return sent
		}
		time.Sleep(time.Millisecond)
	}
	b.Fatalf("Claim of Encounter/%s never acknowledged", enc)
	return time.Time{}
}

// sendBench POSTs the sample Bundle and answers the new Encounter's id.
func sendBench(b *testing.B, m *Main, body []byte) string {
	r := send(b, m, "POST", "/fhir", body)
	var resp struct {
		Entry []struct{ Response struct{ Location string } }
	}
	if err := json.Unmarshal(r.body, &resp); err != nil || len(resp.Entry) < 5 {
		b.Fatalf("sample = %d %s", r.code, r.body)
	}
	mm := regexp.MustCompile(`^Encounter/([^/]+)/`).FindStringSubmatch(resp.Entry[4].Response.Location)
	if mm == nil {
		b.Fatalf("no Encounter location in %s", r.body)
	}
	return mm[1]
}

func benchSubmitToClaim(b *testing.B) {
	m := claimBenchMain(b, false)
	body := sample(b)
	for i := 0; i < b.N; i++ {
		sendBench(b, m, body)
	}
	var lat []time.Duration
	good := map[string]any{"diagnoses": []any{map[string]any{"code": "J20.9"}},
		"lines": []any{map[string]any{"code": "99213", "modifiers": []string{"95"}, "units": 1, "diagnoses": []int{1}}}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		_, item := apiCall(b, m, "POST", "/api/v1/work-items/next", "e2e-coder-token")
		base := "/api/v1/work-items/" + item["id"].(string)
		apiJSON(b, m, "PUT", base+"/codes", "e2e-coder-token", good)
		b.StartTimer()
		start := time.Now()
		code, out := apiJSON(b, m, "POST", base+"/submit", "e2e-coder-token", map[string]any{"acknowledgeWarnings": true})
		lat = append(lat, time.Since(start))
		if code != 200 || out["claim"] == "" {
			b.Fatalf("submit = %d claim %v", code, out["claim"])
		}
	}
	b.StopTimer()
	b.ReportMetric(percentile(lat, 0.5), "p50-ms")
	b.ReportMetric(percentile(lat, 0.99), "p99-ms")
}
