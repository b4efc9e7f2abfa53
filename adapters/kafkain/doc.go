// Package kafkain consumes the Kafka inbound topic: FHIR R4 resources or
// Bundles (JSON) as message values, ingested through the shared ingest use
// case (mapping/ingest), exactly as a POST to /fhir would be.
//
// One Consumer is a member of a consumer group (kafka-go Reader with a
// GroupID), so codebridge replicas share the topic's partitions. Each
// partition has a lane: its messages are handled one at a time, in order,
// while the partitions a replica holds proceed concurrently (one database
// transaction each). A message is committed explicitly (FetchMessage, then
// CommitMessages) only after its outcome is settled:
//
//   - Ingested (the database committed): the offset is committed.
//   - Never processable as it is (unparseable, invalid FHIR, a transaction
//     refused by a business rule or a version precondition: any kind but
//     Transient or Internal): the message goes to the dead-letter topic with
//     the same key, value and headers, plus codebridge headers (below); then
//     its offset is committed and consumption goes on.
//   - A batch Bundle with some failed entries: the good entries are stored
//     and the whole message is dead-lettered too, its OperationOutcome
//     listing only the failed entries (codebridge-outcome:
//     partially-ingested), so an operator can fix and re-send just those;
//     re-sending the whole message is also safe, since identical resources
//     are no-ops.
//   - A receiver fault (the database down: Transient, or an unclassified
//     Internal error): nothing is committed or dead-lettered; the same
//     message is retried with capped exponential backoff until it goes
//     through, so nothing is lost and partition order holds. A broker
//     failure writing the dead letter is retried the same way.
//
// Dead-letter headers: codebridge-operation-outcome (the OperationOutcome
// JSON), codebridge-error-kind (invalid, unprocessable,
// precondition_failed, ...), codebridge-outcome (rejected: nothing stored;
// partially-ingested), codebridge-source-topic, codebridge-source-partition
// and codebridge-source-offset. A value the dead-letter topic refuses as too
// large is dead-lettered without it (header codebridge-value-dropped).
//
// Delivery is at least once: a replica that stops between the database
// commit and the offset commit, or loses its partitions in a rebalance
// (its lane may still finish a few messages it had fetched, which the new
// owner then also processes), leaves messages to be delivered again. That is safe because ingest is
// idempotent for it: resources with ids are written identically (no new
// version), and creates without an id get ids derived from the message's
// topic, partition, offset and a hash of its value (ingest.RawSeeded), so a
// redelivered create lands on the same resource.
//
// Shutdown (Close after cancelling Run's context): the message in hand is
// finished and committed, a retry wait is abandoned (uncommitted, so
// redelivered), then the reader leaves the group and closes.
//
// Logs carry topic, partition, offset and error kind only, never message
// content; the OperationOutcome, which may echo content, goes only to the
// dead-letter topic.
package kafkain
