package mapping

// Outbound Kafka events (CONTRACT §5): work-item status changes as
// CloudEvents 1.0 structured JSON keyed by encounter, and issued Claims as
// FHIR JSON keyed by claim. Pure: the caller supplies the time; only the
// event id is generated when not given.

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// Content types set as the Kafka "content-type" header.
const (
	CloudEventsJSON = "application/cloudevents+json"
	FHIRJSON        = "application/fhir+json"
)

// StatusChange is one work-item state change, as announced on the status
// topic. References are FHIR relative references ("Encounter/123").
type StatusChange struct {
	WorkItemID     string
	Encounter      string // Encounter/{id}; the Kafka key
	Patient        string // Patient/{id}
	Status         string
	PreviousStatus string // empty for the first status
	Actor          string // principal name, or "system"
	Claim          string // Claim/{id} once issued; empty otherwise
	At             time.Time
	EventID        string // CloudEvents id; a random UUID when empty
}

// CloudEvent is the CloudEvents 1.0 structured-mode envelope of a status
// event.
type CloudEvent struct {
	SpecVersion     string     `json:"specversion"`
	ID              string     `json:"id"`
	Source          string     `json:"source"`
	Type            string     `json:"type"`
	Time            string     `json:"time"`
	Subject         string     `json:"subject"`
	DataContentType string     `json:"datacontenttype"`
	Data            StatusData `json:"data"`
}

// StatusData is the data of a status event.
type StatusData struct {
	WorkItemID     string `json:"workItemId"`
	Encounter      string `json:"encounter"`
	Patient        string `json:"patient"`
	Status         string `json:"status"`
	PreviousStatus string `json:"previousStatus"`
	Actor          string `json:"actor"`
	Claim          string `json:"claim,omitempty"`
}

// StatusEvent builds the CloudEvent for c.
func StatusEvent(c StatusChange) (CloudEvent, error) {
	if c.WorkItemID == "" || c.Status == "" || !strings.HasPrefix(c.Encounter, "Encounter/") {
		return CloudEvent{}, workitem.Errorf(workitem.Internal,
			"status event needs a work item id, a status and an Encounter/ reference")
	}
	id := c.EventID
	if id == "" {
		id = uuid.NewString()
	}
	at := c.At
	if at.IsZero() {
		at = time.Now()
	}
	return CloudEvent{
		SpecVersion:     "1.0",
		ID:              id,
		Source:          "codebridge",
		Type:            "codebridge.workitem." + c.Status,
		Time:            at.UTC().Format(time.RFC3339Nano),
		Subject:         c.WorkItemID,
		DataContentType: "application/json",
		Data: StatusData{WorkItemID: c.WorkItemID, Encounter: c.Encounter, Patient: c.Patient,
			Status: c.Status, PreviousStatus: c.PreviousStatus, Actor: c.Actor, Claim: c.Claim},
	}, nil
}

// StatusMessage returns the outbox message announcing c on topic, keyed by
// the encounter reference.
func StatusMessage(topic string, c StatusChange) (workitem.Message, error) {
	ev, err := StatusEvent(c)
	if err != nil {
		return workitem.Message{}, err
	}
	value, err := json.Marshal(ev)
	if err != nil {
		return workitem.Message{}, fmt.Errorf("mapping.StatusMessage(%s): %w", c.WorkItemID, err)
	}
	return workitem.Message{
		Topic: topic,
		Key:   c.Encounter,
		Value: value,
		Headers: map[string]string{
			"content-type": CloudEventsJSON,
			"ce_type":      ev.Type,
			"ce_id":        ev.ID,
		},
	}, nil
}

// ClaimMessage returns the outbox message publishing an issued Claim on
// topic: key "Claim/{id}", value the Claim's FHIR JSON as given.
func ClaimMessage(topic, claimID string, fhirJSON []byte) workitem.Message {
	return workitem.Message{
		Topic:   topic,
		Key:     "Claim/" + claimID,
		Value:   fhirJSON,
		Headers: map[string]string{"content-type": FHIRJSON},
	}
}
