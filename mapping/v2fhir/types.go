package v2fhir

import "encoding/json"

// The FHIR R4 JSON the mapping writes. Struct fields marshal in declaration
// order, so the Bundle bytes depend only on the message (and the prior
// Encounter), never on map iteration.

type coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

type concept struct {
	Coding []coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

type reference struct {
	Reference string `json:"reference,omitempty"`
	Display   string `json:"display,omitempty"`
}

type identifier struct {
	Type     *concept   `json:"type,omitempty"`
	System   string     `json:"system,omitempty"`
	Value    string     `json:"value"`
	Assigner *reference `json:"assigner,omitempty"`
}

type period struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

type humanName struct {
	Use    string   `json:"use,omitempty"`
	Family string   `json:"family,omitempty"`
	Given  []string `json:"given,omitempty"`
	Prefix []string `json:"prefix,omitempty"`
	Suffix []string `json:"suffix,omitempty"`
}

type extension struct {
	URL         string  `json:"url"`
	ValueCoding *coding `json:"valueCoding,omitempty"`
}

type quantity struct {
	Value json.Number `json:"value"`
}

type contactPoint struct {
	System string `json:"system"`
	Value  string `json:"value"`
	Use    string `json:"use,omitempty"`
}

type address struct {
	Use        string   `json:"use,omitempty"`
	Type       string   `json:"type,omitempty"`
	Line       []string `json:"line,omitempty"`
	City       string   `json:"city,omitempty"`
	State      string   `json:"state,omitempty"`
	PostalCode string   `json:"postalCode,omitempty"`
	Country    string   `json:"country,omitempty"`
}

type patient struct {
	ResourceType string         `json:"resourceType"`
	ID           string         `json:"id"`
	Identifier   []identifier   `json:"identifier,omitempty"`
	Name         []humanName    `json:"name,omitempty"`
	Telecom      []contactPoint `json:"telecom,omitempty"`
	Gender       string         `json:"gender,omitempty"`
	BirthDate    string         `json:"birthDate,omitempty"`
	Address      []address      `json:"address,omitempty"`
}

type organization struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Identifier   []identifier `json:"identifier,omitempty"`
	Active       bool         `json:"active"`
	Name         string       `json:"name,omitempty"`
}

type practitioner struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Identifier   []identifier `json:"identifier,omitempty"`
	Name         []humanName  `json:"name,omitempty"`
}

type participant struct {
	Type       []concept  `json:"type"`
	Individual *reference `json:"individual"`
}

type encounterDiagnosis struct {
	Condition reference `json:"condition"`
	Use       *concept  `json:"use,omitempty"`
	Rank      int       `json:"rank,omitempty"`
}

type encounter struct {
	ResourceType    string               `json:"resourceType"`
	ID              string               `json:"id"`
	Identifier      []identifier         `json:"identifier"`
	Status          string               `json:"status"`
	Class           coding               `json:"class"`
	Subject         reference            `json:"subject"`
	Participant     []participant        `json:"participant,omitempty"`
	Period          *period              `json:"period,omitempty"`
	Diagnosis       []encounterDiagnosis `json:"diagnosis,omitempty"`
	ServiceProvider reference            `json:"serviceProvider"`
}

type condition struct {
	ResourceType       string    `json:"resourceType"`
	ID                 string    `json:"id"`
	ClinicalStatus     *concept  `json:"clinicalStatus,omitempty"`
	VerificationStatus concept   `json:"verificationStatus"`
	Category           []concept `json:"category"`
	Code               concept   `json:"code"`
	Subject            reference `json:"subject"`
	Encounter          reference `json:"encounter"`
	OnsetDateTime      string    `json:"onsetDateTime,omitempty"`
}

type procedure struct {
	ResourceType      string    `json:"resourceType"`
	ID                string    `json:"id"`
	Status            string    `json:"status"`
	Code              concept   `json:"code"`
	Subject           reference `json:"subject"`
	Encounter         reference `json:"encounter"`
	PerformedDateTime string    `json:"performedDateTime,omitempty"`
}

type coverageClass struct {
	Type  concept `json:"type"`
	Value string  `json:"value"`
	Name  string  `json:"name,omitempty"`
}

type coverage struct {
	ResourceType string          `json:"resourceType"`
	ID           string          `json:"id"`
	Identifier   []identifier    `json:"identifier,omitempty"`
	Status       string          `json:"status"`
	Subscriber   *reference      `json:"subscriber,omitempty"`
	SubscriberID string          `json:"subscriberId,omitempty"`
	Beneficiary  reference       `json:"beneficiary"`
	Relationship *concept        `json:"relationship,omitempty"`
	Period       *period         `json:"period,omitempty"`
	Payor        []reference     `json:"payor"`
	Class        []coverageClass `json:"class,omitempty"`
	Order        int             `json:"order,omitempty"`
}

type chargeItem struct {
	ResourceType       string       `json:"resourceType"`
	ID                 string       `json:"id"`
	Extension          []extension  `json:"extension,omitempty"`
	Identifier         []identifier `json:"identifier,omitempty"`
	Status             string       `json:"status"`
	Code               concept      `json:"code"`
	Subject            reference    `json:"subject"`
	Context            reference    `json:"context"`
	OccurrenceDateTime string       `json:"occurrenceDateTime,omitempty"`
	Quantity           *quantity    `json:"quantity,omitempty"`
	Reason             []concept    `json:"reason,omitempty"`
}

type bundleRequest struct {
	Method      string `json:"method"`
	URL         string `json:"url"`
	IfNoneMatch string `json:"ifNoneMatch,omitempty"`
	IfMatch     string `json:"ifMatch,omitempty"`
}

type bundleEntry struct {
	Resource any           `json:"resource,omitempty"`
	Request  bundleRequest `json:"request"`
}

type bundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Entry        []bundleEntry `json:"entry"`
}
