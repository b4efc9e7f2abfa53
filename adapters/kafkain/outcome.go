package kafkain

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// issueCode is the OperationOutcome issue.code of an error kind that has
// no issues of its own (the same codes as the HTTP API's table).
func issueCode(k workitem.Kind) string {
	switch k {
	case workitem.Invalid:
		return "structure"
	case workitem.NotFound:
		return "not-found"
	case workitem.Conflict, workitem.Precondition:
		return "conflict"
	case workitem.TooLarge:
		return "too-costly"
	case workitem.UnsupportedMedia, workitem.NotAllowed:
		return "not-supported"
	case workitem.Forbidden:
		return "forbidden"
	}
	return "processing"
}

// issuesOf returns the issues of err for the OperationOutcome: its own, or
// one made of its kind and message. A batch entry's issues (index >= 0)
// without an expression point at Bundle.entry[index].
func issuesOf(err error, index int) []workitem.Issue {
	var de *workitem.Error
	if !errors.As(err, &de) {
		de = &workitem.Error{Kind: workitem.Internal, Message: "internal error"}
	}
	issues := append([]workitem.Issue(nil), de.Issues...)
	if len(issues) == 0 {
		issues = []workitem.Issue{{Severity: "error", Code: issueCode(de.Kind), Diagnostics: de.Message}}
	}
	if index < 0 {
		return issues
	}
	for i := range issues {
		if len(issues[i].Expression) == 0 {
			issues[i].Expression = []string{"Bundle.entry[" + strconv.Itoa(index) + "]"}
		}
	}
	return issues
}

// operationOutcome is the OperationOutcome JSON carrying issues.
func operationOutcome(issues []workitem.Issue) []byte {
	b, err := json.Marshal(struct {
		ResourceType string           `json:"resourceType"`
		Issue        []workitem.Issue `json:"issue"`
	}{"OperationOutcome", issues})
	if err != nil { // cannot happen: strings only
		return []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}`)
	}
	return b
}
