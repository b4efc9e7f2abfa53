// Package ingest is codebridge's one inbound use case: FHIR JSON in, stored
// resources, versions and re-mapped work items out. Every way in goes
// through it — single-resource POST, PUT and DELETE (Service.Write) and
// POST /fhir Bundles (Service.Bundle) in adapters/httpapi, the `codebridge
// import` command, the Kafka inbound topic (adapters/kafkain) and HL7 v2
// once it is turned into FHIR — so they all validate, plan, resolve
// references, honour limits and write exactly alike.
//
// The steps are: parse once with the validating fhir.Parser; plan the
// Bundle with mapping.PlanBundleWith (ids for creates, urn:uuid references
// rewritten, conditional creates resolved); write through Store. A
// transaction is one Store.WriteResources call, all or nothing; a batch is
// one call per entry, and each entry's outcome lands in the Result. Entries
// of types codebridge does not use are skipped with their reason, never
// failed.
//
// Why it sits under mapping/ and not in an adapter: adapters must not import
// each other, and HTTP, import, MLLP and Kafka inbound all need these same
// steps. The package does its I/O only through the small Store interface
// (which *postgres.Store satisfies), so it stays a use case over the domain,
// testable with a fake store, and only cmd wires it to PostgreSQL.
//
// Preconditions: an entry's request.ifMatch (a version ETag) and
// request.ifNoneMatch "*" on a PUT (create only; see applyIfNoneMatch) make
// its write conditional; an unmet one fails the transaction with
// Precondition, which is how a caller that read a resource before mapping
// (the HL7 v2 listener) learns that someone changed it in between.
//
// Errors are always *workitem.Error kinds: a FHIR parse or validation
// failure is Invalid (unparseable) or Unprocessable (invalid content), a
// Bundle over MaxBundleEntries is TooLarge, anything unclassified is
// Internal. DomainError is that one conversion; the HTTP edge uses it too. IsReceiverFault tells a failure of codebridge itself (the
// database down: Transient or Internal), which a sender should retry, from
// a message that will never be accepted as it is.
//
// Replays: RawSeeded gives the plain creates of a message (POST without
// If-None-Exist, or a resource without an id) ids derived from a seed
// instead of random ones, and writes them as update-as-create. A consumer
// that passes a seed naming the message (Kafka: topic, partition, offset
// and a hash of the value) can then process a redelivered message again
// safely: the same ids receive the same content, which is a no-op.
package ingest
