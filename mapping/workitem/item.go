package workitem

import (
	"encoding/json"
	"time"
)

// Status is where a work item is in its life.
type Status string

// The statuses. pending: the Encounter is not finished yet; ready: in the
// queue; in_progress: leased to a coder; on_hold: waiting on a physician
// query; coded: codes submitted; in_review: with an auditor; completed: the
// Claim is issued; reopened: documentation changed after coding; cancelled:
// the Encounter was withdrawn.
const (
	Pending    Status = "pending"
	Ready      Status = "ready"
	InProgress Status = "in_progress"
	OnHold     Status = "on_hold"
	Coded      Status = "coded"
	InReview   Status = "in_review"
	Completed  Status = "completed"
	Reopened   Status = "reopened"
	Cancelled  Status = "cancelled"
)

// Item is one coding work item: the chart of one Encounter.
type Item struct {
	ID           string     `json:"id"`
	Status       Status     `json:"status"`
	Encounter    string     `json:"encounter"` // Encounter/{id}
	Patient      string     `json:"patient"`   // Patient/{id} or ""
	Class        string     `json:"class"`
	Priority     int        `json:"priority"`
	Assignee     string     `json:"assignee"`
	LeaseExpires *time.Time `json:"leaseExpires,omitempty"`
	Version      int        `json:"version"`
	Claim        string     `json:"claim"` // Claim/{id} once issued
	ServiceStart *time.Time `json:"serviceStart,omitempty"`
	ServiceEnd   *time.Time `json:"serviceEnd,omitempty"`
	Reason       string     `json:"reason,omitempty"` // why the last change happened
	CreatedAt    time.Time  `json:"createdAt"`
	UpdatedAt    time.Time  `json:"updatedAt"`
	Chart        *Chart     `json:"-"`
	// Codes, Edits and Queries are filled by single-item reads.
	Codes   *Assignment `json:"-"`
	Edits   []Edit      `json:"-"`
	Queries []Query     `json:"-"`
	// AutoCode is the straight-through coder's decision, filled by
	// single-item reads; nil when it never looked at the item.
	AutoCode *AutoDecision `json:"-"`
}

// Transition is one recorded status change.
type Transition struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	From   Status    `json:"from"`
	To     Status    `json:"to"`
	Reason string    `json:"reason,omitempty"`
}

// Identifier is a FHIR identifier (system|value) used for conditional
// creates and de-duplication.
type Identifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// ResourceWrite is one resource to store, prepared (parsed, validated,
// indexed) before any database work.
type ResourceWrite struct {
	Type        string
	ID          string // final id (server-assigned for creates)
	Method      string // POST, PUT or DELETE
	Raw         []byte // the client's JSON, references rewritten, without server meta
	Hash        []byte // content hash without meta: equal hash = identical re-send
	Identifiers []Identifier
	EncounterID string          // the Encounter this resource documents, if any
	PatientID   string          // the Patient it is about, if any
	Summary     json.RawMessage // indexed facts for mapping, derived from the single parse
	IfMatch     int             // required current version; 0 = none
	IfNoneExist string          // normalised conditional-create criteria; "" = none
	// IfNoneMatch makes a PUT create-only (HTTP If-None-Match: *): it
	// fails with Precondition when the resource exists and is not deleted.
	IfNoneMatch bool
	// Serve returns the JSON as served for a version: Raw with meta.versionId
	// and meta.lastUpdated set.
	Serve func(version int, lastUpdated time.Time) ([]byte, error)
}

// StoredResource is a resource version as kept and served.
type StoredResource struct {
	Type        string
	ID          string
	Version     int
	LastUpdated time.Time
	Raw         []byte
	Deleted     bool
}

// WriteResult says what a write did.
type WriteResult struct {
	StoredResource
	Created   bool // a new resource (201)
	Unchanged bool // an identical re-send or a conditional create that matched (200, no new version)
}

// Filter selects work items for the worklist.
type Filter struct {
	Status    []Status
	Assignee  string
	Encounter string // an Encounter id
	Class     string
	From      time.Time // service date (service_start) on or after this day; zero = open
	To        time.Time // service date on or before this day (inclusive); zero = open
	Limit     int
	Cursor    string // opaque keyset cursor from a previous page

	// AutoCode selects by the straight-through coder's decision: AutoSkipped
	// (left by the straight-through coder), AutoCoded, or "" for any.
	AutoCode string
}

// ClaimFilter selects Claims for FHIR search.
type ClaimFilter struct {
	Encounter    string // an Encounter id
	Patient      string // a Patient id
	Status       string // active or cancelled
	UpdatedAfter time.Time
	Count        int
	Cursor       string
}
