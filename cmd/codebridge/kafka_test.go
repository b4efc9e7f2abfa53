package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/workitem"
)

func post(t *testing.T, m *Main, path, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+m.Addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestKafkaStartAndDeadLetterAdmin starts Main with the embedded broker:
// /readyz checks the broker, a record no broker takes is dead-lettered and
// listed by the admin endpoint, and replay puts it back in line.
func TestKafkaStartAndDeadLetterAdmin(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	if m.KafkaAddr == "" {
		t.Fatal("embedded broker not started")
	}
	if code, body := get(t, m, "/readyz", ""); code != 200 || !strings.Contains(body, `"kafka":"ok"`) {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	store := postgres.NewOutboxStore(m.DB)
	huge := workitem.Message{Topic: m.Config.StatusTopic, Key: "Encounter/e1", Value: make([]byte, 2<<20)}
	if err := store.Enqueue(context.Background(), huge); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Dead []struct {
			ID        int64  `json:"id"`
			Key       string `json:"key"`
			LastError string `json:"lastError"`
		} `json:"dead"`
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(list.Dead) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		code, body := get(t, m, "/api/v1/admin/outbox/dead", "e2e-admin-token")
		if code != 200 {
			t.Fatalf("list dead = %d %s", code, body)
		}
		_ = json.Unmarshal([]byte(body), &list)
	}
	if len(list.Dead) != 1 || list.Dead[0].Key != "Encounter/e1" || list.Dead[0].LastError == "" {
		t.Fatalf("dead letters = %+v", list.Dead)
	}
	if code, _ := get(t, m, "/api/v1/admin/outbox/dead", "e2e-coder-token"); code != http.StatusForbidden {
		t.Errorf("coder listing dead letters: %d, want 403", code)
	}
	id := list.Dead[0].ID
	if code, body := post(t, m, fmt.Sprintf("/api/v1/admin/outbox/dead/%d/replay", id), "e2e-admin-token"); code != 200 {
		t.Fatalf("replay = %d %s", code, body)
	}
	if code, _ := post(t, m, "/api/v1/admin/outbox/dead/999999/replay", "e2e-admin-token"); code != http.StatusNotFound {
		t.Errorf("replay of unknown id = %d, want 404", code)
	}
	if code, body := post(t, m, "/api/v1/admin/outbox/dead/replay", "e2e-admin-token"); code != 200 || !strings.Contains(body, `"replayed"`) {
		t.Errorf("replay all = %d %s", code, body)
	}
	if code, body := get(t, m, "/metrics", ""); code != 200 || !strings.Contains(body, "codebridge_outbox_pending") {
		t.Errorf("/metrics lacks outbox gauges: %d", code)
	}
}

func TestKafkaOptionsFromConfig(t *testing.T) {
	c := config.Default()
	c.KafkaBrokers = []string{"k1:9093"}
	c.KafkaSASLMechanism, c.KafkaSASLUser, c.KafkaSASLPassword = "plain", "u", "p"
	c.KafkaTLS = true
	o, err := kafkaOptions(c)
	if err != nil || o.TLS == nil || o.SASLMechanism != "plain" || o.Brokers[0] != "k1:9093" || o.MaxMessageBytes != 1_000_000 {
		t.Fatalf("kafkaOptions = %+v, %v", o, err)
	}
	bad := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.KafkaTLSCAFile = bad
	if _, err := kafkaOptions(c); err == nil || !strings.Contains(err.Error(), "CODEBRIDGE_KAFKA_TLS_CA_FILE") {
		t.Fatalf("bad CA file: %v", err)
	}
}

// outboxRow is one outbox record's relay state.
type outboxRow struct {
	state, lastError string
	attempts         int
}

// waitOutboxRow polls the outbox row of key until done accepts it.
func waitOutboxRow(t *testing.T, m *Main, key string, done func(outboxRow) bool) outboxRow {
	t.Helper()
	var r outboxRow
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := m.DB.QueryRow(`SELECT state, last_error, attempts FROM outbox WHERE key = $1`, key).Scan(&r.state, &r.lastError, &r.attempts)
		if err != nil {
			t.Fatal(err)
		}
		if done(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox row %s = %+v", key, r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestKafkaMaxMessageBytesLowered: with CODEBRIDGE_KAFKA_MAX_MESSAGE_BYTES
// lowered, a record over it is dead-lettered at once (not retried against
// the writer's limit) and a record under it is delivered.
func TestKafkaMaxMessageBytesLowered(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t), func(c *config.Config) { c.KafkaMaxMessage = 16 << 10 })
	store := postgres.NewOutboxStore(m.DB)
	ctx := context.Background()
	if err := store.Enqueue(ctx, workitem.Message{Topic: m.Config.StatusTopic, Key: "Encounter/big", Value: make([]byte, 32<<10)}); err != nil {
		t.Fatal(err)
	}
	if err := store.Enqueue(ctx, workitem.Message{Topic: m.Config.StatusTopic, Key: "Encounter/small", Value: make([]byte, 8<<10)}); err != nil {
		t.Fatal(err)
	}
	big := waitOutboxRow(t, m, "Encounter/big", func(r outboxRow) bool { return r.state != "pending" || r.attempts > 1 }) // a claim counts an attempt
	if big.state != "dead" || big.attempts != 1 || !strings.Contains(big.lastError, "max message bytes") {
		t.Errorf("record over the limit = %+v; want dead-lettered at once for its size", big)
	}
	waitOutboxRow(t, m, "Encounter/small", func(r outboxRow) bool { return r.state == "sent" })
}

// TestKafkaMaxMessageBytesRaised: with the limit raised above 1 MB, the
// relay tries a 2 MiB record and the embedded broker takes it.
func TestKafkaMaxMessageBytesRaised(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t), func(c *config.Config) { c.KafkaMaxMessage = 3 << 20 })
	store := postgres.NewOutboxStore(m.DB)
	if err := store.Enqueue(context.Background(), workitem.Message{Topic: m.Config.StatusTopic, Key: "Encounter/big", Value: make([]byte, 2<<20)}); err != nil {
		t.Fatal(err)
	}
	r := waitOutboxRow(t, m, "Encounter/big", func(r outboxRow) bool { return r.state != "pending" })
	if r.state != "sent" {
		t.Fatalf("2 MiB record under a 3 MiB limit = %+v; want sent", r)
	}
	rd := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{m.KafkaAddr}, Topic: m.Config.StatusTopic,
		GroupID: "test-" + t.Name(), StartOffset: kafka.FirstOffset, MaxWait: 50 * time.Millisecond, MaxBytes: 4 << 20})
	defer rd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	msg, err := rd.ReadMessage(ctx)
	if err != nil || string(msg.Key) != "Encounter/big" || len(msg.Value) != 2<<20 {
		t.Fatalf("read %q, %d bytes, %v; want the 2 MiB record", msg.Key, len(msg.Value), err)
	}
}
