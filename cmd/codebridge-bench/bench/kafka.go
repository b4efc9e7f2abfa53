package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// watcher consumes the status and claims topics from the end offsets
// they had when it started, and notes when each Encounter's work item was
// first announced ready and when its first Claim arrived.
type watcher struct {
	readers []*kafka.Reader
	cancel  context.CancelFunc
	done    sync.WaitGroup

	mu     sync.Mutex
	ready  map[string]time.Time // Encounter id -> first "ready" event
	claims map[string]time.Time // Encounter id -> first Claim
	last   time.Time            // last message of either topic
}

// claimEncounter finds the Encounter a Claim bills (item.encounter).
var claimEncounter = regexp.MustCompile(`"reference":\s*"Encounter/([^"/]+)"`)

// startWatch positions one reader per partition of each topic at the
// partition's end offset (waiting up to 30 s for the topics to exist, as a
// service that just started creates them in the background) and starts
// reading.
func startWatch(ctx context.Context, brokers []string, statusTopic, claimsTopic string) (*watcher, error) {
	w := &watcher{ready: map[string]time.Time{}, claims: map[string]time.Time{}}
	rctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	for _, topic := range []string{statusTopic, claimsTopic} {
		offsets, err := endOffsets(ctx, brokers, topic)
		if err != nil {
			w.Close()
			return nil, err
		}
		for p, off := range offsets {
			r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p,
				MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond, ReadBackoffMin: time.Millisecond, ReadBackoffMax: 10 * time.Millisecond})
			if err := r.SetOffset(off); err != nil {
				r.Close()
				w.Close()
				return nil, err
			}
			w.readers = append(w.readers, r)
			w.done.Add(1)
			go w.read(rctx, r, topic == claimsTopic)
		}
	}
	return w, nil
}

// endOffsets answers the end offset of each partition of topic.
func endOffsets(ctx context.Context, brokers []string, topic string) (map[int]int64, error) {
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		offsets, err := tryEndOffsets(ctx, client, topic)
		if err == nil {
			return offsets, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("bench: kafka topic %s: %w", topic, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func tryEndOffsets(ctx context.Context, client *kafka.Client, topic string) (map[int]int64, error) {
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	if len(md.Topics) != 1 || md.Topics[0].Error != nil || len(md.Topics[0].Partitions) == 0 {
		if len(md.Topics) == 1 && md.Topics[0].Error != nil {
			return nil, md.Topics[0].Error
		}
		return nil, errors.New("no partitions")
	}
	var reqs []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		reqs = append(reqs, kafka.LastOffsetOf(p.ID))
	}
	res, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	for _, po := range res.Topics[topic] {
		if po.Error != nil {
			return nil, po.Error
		}
		out[po.Partition] = po.LastOffset
	}
	if len(out) != len(reqs) {
		return nil, errors.New("offsets missing for some partitions")
	}
	return out, nil
}

func (w *watcher) read(ctx context.Context, r *kafka.Reader, claims bool) {
	defer w.done.Done()
	for {
		msg, err := r.ReadMessage(ctx)
		if err != nil {
			return
		}
		now := time.Now()
		enc := ""
		if claims {
			if m := claimEncounter.FindSubmatch(msg.Value); m != nil {
				enc = string(m[1])
			}
		} else {
			var ev struct {
				Data struct{ Encounter, Status string } `json:"data"`
			}
			if json.Unmarshal(msg.Value, &ev) == nil && ev.Data.Status == "ready" {
				enc = encounterID(ev.Data.Encounter)
			}
		}
		w.note(now, enc, claims)
	}
}

func (w *watcher) note(at time.Time, enc string, claim bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = at
	if enc == "" {
		return
	}
	m := w.ready
	if claim {
		m = w.claims
	}
	if _, seen := m[enc]; !seen {
		m[enc] = at
	}
}

// lastMessage answers when the last message of either topic arrived.
func (w *watcher) lastMessage() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

// forget drops what was seen so far (the preload's events).
func (w *watcher) forget() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ready, w.claims = map[string]time.Time{}, map[string]time.Time{}
}

// settle waits until neither topic had a message for quiet, or max passed,
// and answers how long it waited.
func (w *watcher) settle(ctx context.Context, quiet, max time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < max && ctx.Err() == nil {
		last := w.lastMessage()
		if last.Before(start) {
			last = start
		}
		if time.Since(last) >= quiet {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}

// Close stops the readers.
func (w *watcher) Close() {
	w.cancel()
	for _, r := range w.readers {
		r.Close()
	}
	w.done.Wait()
}

// E2E is the end-to-end part of the report.
type E2E struct {
	// Accepted is the number of visits whose Bundle was accepted; Outpatient
	// those of them eligible for straight-through coding (inpatient stays
	// need POA indicators and always go to a coder).
	Accepted   int `json:"accepted"`
	Outpatient int `json:"outpatient"`
	// ReadyEvents and Claims count the accepted visits whose "ready" status
	// event and Claim were seen.
	ReadyEvents int `json:"readyEvents"`
	Claims      int `json:"claims"`
	// ClaimsPerSec is Claims over the time from the first send to the last
	// Claim: the pace of straight-through coding under this load.
	ClaimsPerSec float64 `json:"claimsPerSecond"`
	Ready        Latency `json:"ingestToReady"`
	Claim        Latency `json:"ingestToClaim"`
	DrainSeconds float64 `json:"drainSeconds"`
}

// drain waits, after the load, until every accepted visit has its ready
// event and every outpatient visit its Claim, or no message came for quiet,
// or max passed; then it matches events to sends.
func (w *watcher) drain(ctx context.Context, sent map[string]sentVisit, quiet, max time.Duration) E2E {
	start := time.Now()
	for time.Since(start) < max && ctx.Err() == nil {
		e := w.match(sent)
		if e.ReadyEvents == e.Accepted && e.Claims == e.Outpatient {
			break
		}
		if last := w.lastMessage(); time.Since(last) >= quiet && time.Since(start) >= quiet {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	e := w.match(sent)
	e.DrainSeconds = time.Since(start).Seconds()
	return e
}

// match pairs each accepted visit with its events.
func (w *watcher) match(sent map[string]sentVisit) E2E {
	w.mu.Lock()
	defer w.mu.Unlock()
	e := E2E{Accepted: len(sent)}
	var ready, claims []time.Duration
	var first, last time.Time
	for enc, s := range sent {
		if s.kind != inpatient {
			e.Outpatient++
		}
		if first.IsZero() || s.at.Before(first) {
			first = s.at
		}
		if at, ok := w.ready[enc]; ok {
			ready = append(ready, at.Sub(s.at))
		}
		if at, ok := w.claims[enc]; ok {
			claims = append(claims, at.Sub(s.at))
			if at.After(last) {
				last = at
			}
		}
	}
	e.ReadyEvents, e.Claims = len(ready), len(claims)
	if len(claims) > 0 {
		e.ClaimsPerSec = float64(len(claims)) / last.Sub(first).Seconds()
	}
	e.Ready, e.Claim = summarize(ready), summarize(claims)
	return e
}
