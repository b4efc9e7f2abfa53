// Package fhirclient delivers issued Claims to a downstream FHIR R4 server
// (CODEBRIDGE_CLAIM_SINK_URL).
//
// Client speaks the REST side. The first version of a Claim is a
// conditional create, POST [base]/Claim with If-None-Exist on the Claim's
// identifier, so a retry after a lost response never makes a second Claim
// downstream; later versions (cancellations) are a conditional update, PUT
// [base]/Claim?identifier=..., of the Claim found by that identifier. Bodies
// leave without id and meta (they are this server's, not the sink's), and
// with logical references (LogicalReferences): the sink does not hold the
// Patient, Coverage or prior Claim a reference would point to. Every
// outcome is classified: 2xx is delivered; 408, 429, 5xx and network errors
// are retryable; any other status is permanent. A *DeliveryError carries the
// status and a short reason, never the response body, so it is safe to log
// and to store.
//
// Worker is the background loop: it leases queued deliveries from a Queue
// (adapters/postgres.DeliveryStore in production), delivers each with the
// Client, and records the outcome: delivered, failed with backoff, or dead at
// once for a permanent error. The Queue hands out one version of a Claim at
// a time, in order. The loop ends when its context is done; no single
// delivery, and no database error, stops it.
package fhirclient
