// Package workitem is codebridge's domain: the coding work item (one per
// Encounter), its statuses and transitions, code assignments, edits, events,
// the Store interface the adapters implement, and the small fixed set of error
// kinds every layer uses.
//
// The work-item rules live here as pure functions, and the adapters only
// call them: the roles and who may do what (role.go: Role, Permitted,
// RoleFromScopes; rules.go: MayCode, MaySubmit, MayOpenQuery,
// MayAnswerQuery), the refusal of a submit on standing edits
// (RefuseOnEdits), the status after a re-derivation (NextStatus), QA
// routing (RouteCoded, over the configured InstitutionalClasses) and the
// straight-through policy (straight.go: StraightThroughPolicy.Decide,
// SequenceDiagnoses), which says whether a chart may be coded without a
// person and, if not, why. The PostgreSQL store persists and locks: inside
// the transaction that holds an item's row it calls these functions (and
// mapping's pure derivations: BuildChart, AutoAssignment, BuildClaim) to
// decide, as benbjohnson/wtf's sqlite package calls its domain's
// validation; the API and the workbench decide what to offer with the same
// functions, so none of them can disagree. What the store still owns is
// when to call them: the order of locks, statements and outbox rows in one
// transaction.
//
// As in benbjohnson/wtf and upspin, the domain package is the contract: the
// HTTP layer maps error kinds to status codes in one table, the PostgreSQL
// store returns them, and nobody matches error strings.
package workitem
