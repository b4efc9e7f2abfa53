package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// bundleResponse is a transaction-response or batch-response Bundle.
type bundleResponse struct {
	ResourceType string          `json:"resourceType"`
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Timestamp    string          `json:"timestamp"`
	Entry        []responseEntry `json:"entry"`
}

type responseEntry struct {
	Response entryResponse `json:"response"`
}

type entryResponse struct {
	Status       string            `json:"status"`
	Location     string            `json:"location,omitempty"`
	Etag         string            `json:"etag,omitempty"`
	LastModified string            `json:"lastModified,omitempty"`
	Outcome      *operationOutcome `json:"outcome,omitempty"`
}

// bundle handles POST /fhir: a transaction (all or nothing, one database
// transaction) or a batch (entry by entry), through the shared ingest use
// case; this handler only reads the request and writes the response.
func (a *fhirAPI) bundle(c echo.Context) error {
	raw, err := fhirBody(c)
	if err != nil {
		return err
	}
	b, err := a.parser.ParseBundle(raw)
	if err != nil {
		return err // the error handler answers it through ingest.DomainError
	}
	res, err := a.svc.Bundle(c.Request().Context(), PrincipalOf(c).Name, b)
	if err != nil {
		return err
	}
	resp := bundleResponse{ResourceType: "Bundle", ID: uuid.NewString(), Type: res.BundleType + "-response",
		Timestamp: time.Now().UTC().Format(time.RFC3339), Entry: make([]responseEntry, len(res.Entries))}
	for i, e := range res.Entries {
		resp.Entry[i] = responseFor(e)
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/fhir+json; charset=utf-8", out)
}

// responseFor is the response of one entry: failed, skipped or written.
func responseFor(e ingest.Entry) responseEntry {
	switch {
	case e.Err != nil:
		return failedEntry(e.Err)
	case e.Skipped != "":
		return skippedEntry(e)
	}
	r := entryResponse{Status: strconv.Itoa(e.Status) + " " + http.StatusText(e.Status)}
	if e.Status != http.StatusNoContent {
		v := strconv.Itoa(e.Version)
		r.Location = e.Type + "/" + e.ID + "/_history/" + v
		r.Etag = `W/"` + v + `"`
		r.LastModified = e.LastUpdated.UTC().Format(time.RFC3339Nano)
	}
	return responseEntry{Response: r}
}

func skippedEntry(e ingest.Entry) responseEntry {
	return responseEntry{Response: entryResponse{Status: "200 OK", Outcome: &operationOutcome{ResourceType: "OperationOutcome",
		Issue: []workitem.Issue{{Severity: "information", Code: "informational", Diagnostics: e.Skipped,
			Expression: []string{"Bundle.entry[" + strconv.Itoa(e.Index) + "]"}}}}}}
}

func failedEntry(err error) responseEntry {
	de := toDomain(err)
	st := kindStatus[de.Kind]
	issues := de.Issues
	if len(issues) == 0 {
		msg := de.Message
		if de.Kind == workitem.Internal {
			msg = "internal error"
		}
		issues = []workitem.Issue{{Severity: "error", Code: st.issueCode, Diagnostics: msg}}
	}
	return responseEntry{Response: entryResponse{Status: strconv.Itoa(st.status) + " " + http.StatusText(st.status),
		Outcome: &operationOutcome{ResourceType: "OperationOutcome", Issue: issues}}}
}
