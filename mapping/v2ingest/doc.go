// Package v2ingest is the HL7 v2 use case (CONTRACT.md §6): one message
// in, its ACK out. It parses the message (mapping/hl7v2), checks the
// processing id and the event, skips a message whose MSH-10 was processed
// before, reads what is stored of the visit and the patient, maps the
// message to a FHIR transaction Bundle (mapping/v2fhir) whose Encounter
// and Patient writes are conditional on what was read, ingests it through
// mapping/ingest under the message's key, exactly as POST /fhir would, and
// only then answers: AA when it committed (or was committed before), AE
// with ERR segments for bad content, AR for an unsupported message or a
// receiver fault (the database down), which tells the sender to retry. A
// write that lost to a concurrent change of the visit or patient is read,
// mapped and written again, a bounded number of times.
//
// Service.Handle has the shape of an adapters/mllp Handler, which knows
// nothing of HL7: cmd builds the Service with its Store and hands it to
// the MLLP server (mllp.HandlerFunc(svc.Handle)). The package does no I/O
// of its own: it reads through the small Store interface it is given and
// writes through the ingest.Service it is given, so it is tested with a
// fake store; the end-to-end tests over MLLP and PostgreSQL are in
// cmd/codebridge.
//
// Why a package of its own rather than a file of mapping/ingest: ingest is
// the FHIR use case every way in shares (REST, Bundles, Kafka inbound,
// import) and knows nothing of HL7; the v2 use case is one more client of
// it, with concerns only it has (ACK codes and ERR segments, MSH-10
// deduplication and its content hash, the read-map-write retry, its
// metrics). Keeping them apart keeps ingest's Store and imports small for
// its other callers, and makes this package the one place that says what
// an HL7 v2 sender is answered.
//
// Logs carry the event, the control id and the ACK code, never content
// (PHI); errors are logged by kind only.
package v2ingest
