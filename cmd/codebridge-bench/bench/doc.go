// Package bench is the load harness of codebridge-bench: it POSTs
// synthetic transaction Bundles (telehealth, office, ED and inpatient
// visits) to a running codebridge, optionally follows the status and
// claims topics on Kafka for end-to-end latency, measures two bounds of
// this machine over the same Bundles (the validating FHIR parse alone and
// raw PostgreSQL COPY), and writes a report (text and JSON) that can be
// compared with an earlier one.
//
// It lives outside the service binary (cmd/codebridge); the end-to-end
// tests in cmd/codebridge import it to run it against an in-process
// service.
package bench
