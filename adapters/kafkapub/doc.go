// Package kafkapub publishes the transactional outbox to Kafka.
//
// The Relay is the only code that talks to the broker on the write path.
// State changes never do: they insert outbox rows in their own database
// transaction (postgres.EnqueueTx), so a broker outage delays events and
// never fails or loses a change. The relay loops until its context ends:
// claim a batch (at most one record per key, see adapters/postgres/outbox.go
// for why several relays cannot reorder a key), publish it synchronously
// with a kafka-go Writer that waits for every in-sync replica
// (RequiredAcks: RequireAll, never Async, which drops errors), then mark it
// sent. A failed publish is retried with capped exponential backoff; after
// RetryPolicy.MaxAttempts attempts, or at once for a message no broker will
// ever take (larger than the writer's limit), the record is dead-lettered
// and waits for an operator's replay, while later records of the same key go
// on. Delivery is at least once: a relay that dies between the broker's ack
// and MarkSent, or whose lease runs out, leads to a duplicate, which
// consumers drop by the CloudEvents id.
//
// Shutdown: when the relay's context is cancelled it still finishes the
// publish in flight (bounded by PublishTimeout) and marks its outcome; the
// rest stays pending for the next start.
//
// The package also runs the embedded Kafka-protocol broker for `codebridge
// dev` and tests (franz-go's kfake, in memory, on a fixed address so outside
// clients such as kcat can connect), creates the topics at start
// (EnsureTopics), exposes outbox metrics and a broker readiness check (Ping).
package kafkapub
