package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/kafkapub"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
)

const inTopic = "fhir.inbound"

// inboundOn turns the Kafka inbound consumer on.
func inboundOn(c *config.Config) { c.InboundTopic = inTopic }

// inboundTx is a transaction Bundle of one visit, every entry a PUT, so a
// re-sent copy is a no-op.
const inboundTx = `{"resourceType":"Bundle","type":"transaction","entry":[
 {"resource":{"resourceType":"Patient","id":"kp1","gender":"female","birthDate":"1970-01-01"},"request":{"method":"PUT","url":"Patient/kp1"}},
 {"resource":{"resourceType":"Encounter","id":"ke1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
   "subject":{"reference":"Patient/kp1"},"period":{"start":"2026-03-02T09:00:00Z","end":"2026-03-02T09:30:00Z"}},"request":{"method":"PUT","url":"Encounter/ke1"}},
 {"resource":{"resourceType":"Condition","id":"kc1","subject":{"reference":"Patient/kp1"},"encounter":{"reference":"Encounter/ke1"},
   "code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}},"request":{"method":"PUT","url":"Condition/kc1"}}]}`

const inboundCondition = `{"resourceType":"Condition","id":"kc2","subject":{"reference":"Patient/kp1"},"encounter":{"reference":"Encounter/ke1"},
 "code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J20.9"}]}}`

// newPatient is a Patient without an id: every message of it is a create.
func newPatient(i int) string {
	return fmt.Sprintf(`{"resourceType":"Patient","gender":"other","identifier":[{"system":"urn:test","value":"n%d"}]}`, i)
}

// produce writes msgs to topic as any Kafka client would.
func produce(t *testing.T, addr, topic string, bal kafka.Balancer, msgs ...kafka.Message) {
	t.Helper()
	if bal == nil {
		bal = &kafka.Hash{}
	}
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: topic, Balancer: bal, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

func msg(key, value string) kafka.Message {
	return kafka.Message{Key: []byte(key), Value: []byte(value)}
}

// metric sums the samples of a Main's metric whose labels include the
// given name=value pairs.
func metric(t *testing.T, m *Main, name string, labels ...string) float64 {
	t.Helper()
	// With the database down, gauges read from it fail; the rest is there.
	fams, _ := m.Registry.Gather()
	var sum float64
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	samples:
		for _, s := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range s.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue samples
				}
			}
			sum += s.GetCounter().GetValue() + s.GetGauge().GetValue()
		}
	}
	return sum
}

// settled is how many inbound messages a Main has settled and committed.
func settled(t *testing.T, m *Main) int {
	return int(metric(t, m, "codebridge_inbound_messages_total"))
}

// readTopic reads the first n messages of topic from the start.
func readTopic(t *testing.T, addr, topic string, n int) []kafka.Message {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: topic, GroupID: "test-read-" + t.Name(),
		StartOffset: kafka.FirstOffset, MaxWait: 50 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []kafka.Message
	for len(out) < n {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("%s: after %d of %d messages: %v", topic, len(out), n, err)
		}
		out = append(out, m)
	}
	return out
}

func TestInboundIngestsBundleAndResource(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t), inboundOn)
	produce(t, m.KafkaAddr, inTopic, nil, msg("Encounter/ke1", inboundTx), msg("Encounter/ke1", inboundCondition))
	waitFor(t, "two messages settled", func() bool { return settled(t, m) == 2 })
	if n := count(t, m, `SELECT count(*) FROM resources WHERE id IN ('kp1', 'ke1', 'kc1', 'kc2') AND version = 1`); n != 4 {
		t.Fatalf("%d of 4 resources stored", n)
	}
	if n := count(t, m, `SELECT count(*) FROM work_items WHERE encounter_id = 'ke1'`); n != 1 {
		t.Fatalf("%d work items for the Encounter, want 1", n)
	}
	_, evs := readEvents(t, m, 1)
	if evs[0].Data.Encounter != "Encounter/ke1" || evs[0].Data.Actor != "kafka:"+inTopic {
		t.Errorf("status event = %+v, want one for Encounter/ke1 by kafka:%s", evs[0].Data, inTopic)
	}
	// The same messages again: settled, and no new version anywhere.
	produce(t, m.KafkaAddr, inTopic, nil, msg("Encounter/ke1", inboundTx), msg("Encounter/ke1", inboundCondition))
	waitFor(t, "four messages settled", func() bool { return settled(t, m) == 4 })
	if n := count(t, m, `SELECT count(*) FROM resource_versions`); n != 4 {
		t.Errorf("%d resource versions after re-sending, want 4", n)
	}
	if got := metric(t, m, "codebridge_inbound_messages_total", "outcome", "ingested"); got != 4 {
		t.Errorf("ingested = %v, want 4", got)
	}
}

func TestInboundDeadLetters(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t), inboundOn)
	badEnc := strings.Replace(inboundTx, `"status":"finished"`, `"status":"done-and-dusted"`, 1)
	dangling := strings.Replace(inboundTx, `"reference":"Encounter/ke1"`, `"reference":"urn:uuid:0badf00d-0000-4000-8000-000000000000"`, 1)
	batch := `{"resourceType":"Bundle","type":"batch","entry":[
	 {"resource":{"resourceType":"Patient","id":"kp9"},"request":{"method":"PUT","url":"Patient/kp9"}},
	 {"resource":{"resourceType":"Patient","id":"kp8"},"request":{"method":"PUT","url":"Patient/kp8","ifMatch":"W/\"4\""}}]}`
	tests := []struct {
		key, value         string
		kind, outcome, exp string
	}{
		{"unparseable", `{"resourceType":"Patient",`, "invalid", "rejected", ""},
		{"invalid-fhir", badEnc, "unprocessable", "rejected", "Bundle.entry[1].resource.status"},
		{"business-rule", dangling, "unprocessable", "rejected", "Bundle.entry[2].resource"},
		{"partial-batch", batch, "precondition_failed", "partially-ingested", "Bundle.entry[1]"},
	}
	// One key: one partition, so the offsets are the messages' positions
	// and the good message comes after every poison one.
	var msgs []kafka.Message
	for _, tt := range tests {
		msgs = append(msgs, kafka.Message{Key: []byte("visit-1"), Value: []byte(tt.value), Headers: []kafka.Header{{Key: "trace", Value: []byte(tt.key)}}})
	}
	msgs = append(msgs, msg("visit-1", inboundTx))
	produce(t, m.KafkaAddr, inTopic, nil, msgs...)
	waitFor(t, "five messages settled", func() bool { return settled(t, m) == 5 })
	if n := count(t, m, `SELECT count(*) FROM resources WHERE id IN ('kp1', 'ke1', 'kc1', 'kp9')`); n != 4 {
		t.Errorf("%d of 4 good resources stored (the good message and the batch's good entry)", n)
	}
	dead := map[string]kafka.Message{}
	for _, d := range readTopic(t, m.KafkaAddr, inTopic+".dlq", len(tests)) {
		for _, h := range d.Headers {
			if h.Key == "trace" {
				dead[string(h.Value)] = d
			}
		}
	}
	for i, tt := range tests {
		d, ok := dead[tt.key]
		if !ok {
			t.Errorf("%s: not dead-lettered", tt.key)
			continue
		}
		h := map[string]string{}
		for _, x := range d.Headers {
			h[x.Key] = string(x.Value)
		}
		var oo struct {
			ResourceType string
			Issue        []struct{ Expression []string }
		}
		if err := json.Unmarshal([]byte(h["codebridge-operation-outcome"]), &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) == 0 {
			t.Errorf("%s: operation outcome header %q (%v)", tt.key, h["codebridge-operation-outcome"], err)
		}
		got := map[string]string{"key": string(d.Key), "value": string(d.Value), "kind": h["codebridge-error-kind"], "outcome": h["codebridge-outcome"],
			"source": h["codebridge-source-topic"] + "@" + h["codebridge-source-offset"]}
		want := map[string]string{"key": "visit-1", "value": tt.value, "kind": tt.kind, "outcome": tt.outcome, "source": fmt.Sprintf("%s@%d", inTopic, i)}
		if tt.exp != "" && (len(oo.Issue) == 0 || len(oo.Issue[0].Expression) == 0 || oo.Issue[0].Expression[0] != tt.exp) {
			t.Errorf("%s: issues %+v, want the first at %s", tt.key, oo.Issue, tt.exp)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: dead letter mismatch (-want +got):\n%s", tt.key, diff)
		}
	}
}

func TestInboundDatabaseDownRetriesWithoutCommit(t *testing.T) {
	dbURL, p := proxiedDatabase(t)
	m := startMain(t, dbURL, inboundOn)
	client := &kafka.Client{Addr: kafka.TCP(m.KafkaAddr), Timeout: 10 * time.Second}

	p.setDown(true)
	produce(t, m.KafkaAddr, inTopic, nil, msg("Encounter/ke1", inboundCondition))
	waitFor(t, "two retries", func() bool { return metric(t, m, "codebridge_inbound_retries_total") >= 2 })
	if got := committed(t, client, m.Config); got != 0 {
		t.Errorf("%d messages committed while the database is down, want 0", got)
	}
	p.setDown(false)
	waitFor(t, "the message settled", func() bool { return settled(t, m) == 1 })
	if got := metric(t, m, "codebridge_inbound_messages_total", "outcome", "ingested"); got != 1 {
		t.Errorf("ingested = %v, want 1", got)
	}
	if n := count(t, m, `SELECT count(*) FROM resources WHERE id = 'kc2'`); n != 1 {
		t.Errorf("Condition not stored after recovery")
	}
	if got := committed(t, client, m.Config); got != 1 {
		t.Errorf("%d messages committed after recovery, want 1", got)
	}
	res, err := client.ListOffsets(context.Background(), &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{
		inTopic + ".dlq": partitionsOf(m.Config, kafka.LastOffsetOf)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, po := range res.Topics[inTopic+".dlq"] {
		if po.Error != nil || po.LastOffset != 0 {
			t.Errorf("dead-letter partition %d: last offset %d (%v), want 0", po.Partition, po.LastOffset, po.Error)
		}
	}
}

// committed sums the inbound offsets the group has committed: with one
// message per partition at most, the number of messages committed.
func committed(t *testing.T, client *kafka.Client, cfg config.Config) int64 {
	t.Helper()
	ps := make([]int, cfg.TopicPartitions)
	for i := range ps {
		ps[i] = i
	}
	res, err := client.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: cfg.InboundGroup, Topics: map[string][]int{inTopic: ps}})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, p := range res.Topics[inTopic] {
		n += max(p.CommittedOffset, 0)
	}
	return n
}

func partitionsOf(cfg config.Config, f func(int) kafka.OffsetRequest) []kafka.OffsetRequest {
	out := make([]kafka.OffsetRequest, cfg.TopicPartitions)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// externalBroker runs a broker outside any Main, as a real cluster would
// be, so it outlives Main restarts.
func externalBroker(t *testing.T) string {
	t.Helper()
	b, err := kafkapub.StartEmbedded("127.0.0.1:0", kafkapub.EmbeddedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b.Addr()
}

// onBroker points a Main at an existing broker, with the inbound topic on.
func onBroker(addr string) func(*config.Config) {
	return func(c *config.Config) {
		inboundOn(c)
		c.KafkaBrokers = []string{addr}
	}
}

func TestInboundWaitsForTopicsOnRealCluster(t *testing.T) {
	addr := externalBroker(t)
	m := startMain(t, pgtest.NewURL(t), onBroker(addr))
	if code, body := get(t, m, "/readyz", ""); code != 503 || !strings.Contains(body, `"kafka-inbound":"unavailable"`) {
		t.Fatalf("readyz without the inbound topics = %d %s, want 503 naming kafka-inbound", code, body)
	}
	opts := kafkapub.Options{Brokers: []string{addr}}
	if err := kafkapub.EnsureTopics(context.Background(), opts, 2, 1, inTopic, inTopic+".dlq"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "readyz 200", func() bool { code, _ := get(t, m, "/readyz", ""); return code == 200 })
	produce(t, addr, inTopic, nil, msg("Encounter/ke1", inboundTx))
	waitFor(t, "the message settled", func() bool { return settled(t, m) == 1 })
	if n := count(t, m, `SELECT count(*) FROM resources WHERE id IN ('kp1', 'ke1', 'kc1')`); n != 3 {
		t.Errorf("%d of 3 resources stored", n)
	}
}

// Offsets are committed: a restarted Main consumes only what is new. A new
// group replays the whole topic, and the replay is a no-op, creates without
// an id included.
func TestInboundOffsetsSurviveRestartAndReplayIsNoOp(t *testing.T) {
	addr := externalBroker(t)
	if err := kafkapub.EnsureTopics(context.Background(), kafkapub.Options{Brokers: []string{addr}}, 3, 1, inTopic, inTopic+".dlq"); err != nil {
		t.Fatal(err)
	}
	dbURL := pgtest.NewURL(t)
	m1 := startMain(t, dbURL, onBroker(addr))
	msgs := []kafka.Message{msg("Encounter/ke1", inboundTx), msg("Encounter/ke1", inboundCondition)}
	for i := range 4 {
		msgs = append(msgs, msg(fmt.Sprint("new-", i), newPatient(i)))
	}
	produce(t, addr, inTopic, nil, msgs...)
	waitFor(t, "six messages settled", func() bool { return settled(t, m1) == 6 })
	if err := m1.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	m2 := startMain(t, dbURL, onBroker(addr))
	produce(t, addr, inTopic, nil, msg("new-9", newPatient(9)))
	waitFor(t, "the new message settled", func() bool { return settled(t, m2) == 1 })
	if got := metric(t, m2, "codebridge_inbound_consumed_total"); got != 1 {
		t.Errorf("restarted Main consumed %v messages, want only the new one", got)
	}
	want := []int{9, 9} // resources, versions: 4 from the visit, 5 new Patients
	got := []int{count(t, m2, `SELECT count(*) FROM resources`), count(t, m2, `SELECT count(*) FROM resource_versions`)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("after restart (-want +got):\n%s", diff)
	}

	m3 := startMain(t, dbURL, onBroker(addr), func(c *config.Config) { c.InboundGroup = "replay" })
	waitFor(t, "the replay settled", func() bool { return settled(t, m3) == 7 })
	got = []int{count(t, m3, `SELECT count(*) FROM resources`), count(t, m3, `SELECT count(*) FROM resource_versions`)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after a replay of the whole topic (-want +got):\n%s", diff)
	}
}

// Two replicas in one group share a 4-partition topic: each consumes part
// of it, and every message is stored exactly once.
func TestInboundConsumerGroupSharesPartitions(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	four := func(c *config.Config) { inboundOn(c); c.TopicPartitions = 4 }
	a := startMain(t, dbURL, four)
	b := startMain(t, dbURL, onBroker(a.KafkaAddr))
	client := &kafka.Client{Addr: kafka.TCP(a.KafkaAddr), Timeout: 10 * time.Second}
	waitFor(t, "both replicas assigned partitions", func() bool {
		res, err := client.DescribeGroups(context.Background(), &kafka.DescribeGroupsRequest{GroupIDs: []string{a.Config.InboundGroup}})
		if err != nil || len(res.Groups) != 1 || res.Groups[0].GroupState != "Stable" || len(res.Groups[0].Members) != 2 {
			return false
		}
		for _, mem := range res.Groups[0].Members {
			if len(mem.MemberAssignments.Topics) != 1 || len(mem.MemberAssignments.Topics[0].Partitions) != 2 {
				return false
			}
		}
		return true
	})
	var msgs []kafka.Message
	for i := range 40 {
		msgs = append(msgs, msg(fmt.Sprint("p", i), newPatient(i)))
	}
	produce(t, a.KafkaAddr, inTopic, &kafka.RoundRobin{}, msgs...)
	waitFor(t, "40 messages settled", func() bool { return settled(t, a)+settled(t, b) >= 40 })
	if n := count(t, a, `SELECT count(*) FROM resources WHERE type = 'Patient' AND version = 1`); n != 40 {
		t.Errorf("%d Patients stored, want 40 (each message exactly once)", n)
	}
	if n := count(t, a, `SELECT count(*) FROM resource_versions`); n != 40 {
		t.Errorf("%d versions stored, want 40", n)
	}
	if sa, sb := settled(t, a), settled(t, b); sa == 0 || sb == 0 {
		t.Errorf("replicas settled %d and %d messages; both should have had partitions", sa, sb)
	}
}
