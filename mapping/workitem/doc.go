// Package workitem is codebridge's domain: the coding work item (one per
// Encounter), its statuses and transitions, code assignments, edits, events,
// the Store interface the adapters implement, and the small fixed set of error
// kinds every layer uses.
//
// As in benbjohnson/wtf and upspin, the domain package is the contract: the
// HTTP layer maps error kinds to status codes in one table, the PostgreSQL
// store returns them, and nobody matches error strings.
package workitem
