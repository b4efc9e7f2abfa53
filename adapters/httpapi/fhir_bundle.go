package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/mapping"
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
// transaction) or a batch (entry by entry).
func (a *fhirAPI) bundle(c echo.Context) error {
	raw, err := fhirBody(c)
	if err != nil {
		return err
	}
	b, err := a.parser.ParseBundle(raw)
	if err != nil {
		return parseErr(err)
	}
	if len(b.Entries) > a.opts.MaxBundleEntries {
		return workitem.Errorf(workitem.TooLarge, "Bundle has %d entries; the limit is %d", len(b.Entries), a.opts.MaxBundleEntries)
	}
	existing := func(typ, criteria string) (string, bool, error) {
		return a.store.FindConditional(c.Request().Context(), typ, criteria)
	}
	plans, err := mapping.PlanBundleWith(b, uuid.NewString, existing)
	if err != nil {
		return err
	}
	resp := bundleResponse{ResourceType: "Bundle", ID: uuid.NewString(), Type: b.Type + "-response",
		Timestamp: time.Now().UTC().Format(time.RFC3339), Entry: make([]responseEntry, len(plans))}
	actor := PrincipalOf(c).Name
	if b.Type == "transaction" {
		err = a.transaction(c, actor, plans, resp.Entry)
	} else {
		a.batch(c, actor, plans, resp.Entry)
	}
	if err != nil {
		return err
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/fhir+json; charset=utf-8", out)
}

func (a *fhirAPI) transaction(c echo.Context, actor string, plans []mapping.EntryPlan, out []responseEntry) error {
	var ws []workitem.ResourceWrite
	var at []int
	for i, p := range plans {
		if p.Write == nil {
			out[i] = skippedEntry(p)
			continue
		}
		ws = append(ws, writeFor(p))
		at = append(at, i)
	}
	res, err := a.store.WriteResources(c.Request().Context(), actor, ws)
	if err != nil {
		return err
	}
	for j, r := range res {
		out[at[j]] = writtenEntry(r, ws[j].Method)
	}
	return nil
}

func (a *fhirAPI) batch(c echo.Context, actor string, plans []mapping.EntryPlan, out []responseEntry) {
	for i, p := range plans {
		switch {
		case p.Err != nil:
			out[i] = failedEntry(p.Err)
		case p.Write == nil:
			out[i] = skippedEntry(p)
		default:
			w := writeFor(p)
			res, err := a.store.WriteResources(c.Request().Context(), actor, []workitem.ResourceWrite{w})
			if err != nil {
				out[i] = failedEntry(err)
				continue
			}
			out[i] = writtenEntry(res[0], w.Method)
		}
	}
}

func writeFor(p mapping.EntryPlan) workitem.ResourceWrite {
	if p.Write.Method == http.MethodDelete {
		return withDeleteServe(*p.Write)
	}
	return *p.Write
}

func writtenEntry(r workitem.WriteResult, method string) responseEntry {
	status := "200 OK"
	switch {
	case method == http.MethodDelete:
		status = "204 No Content"
	case r.Created:
		status = "201 Created"
	}
	e := entryResponse{Status: status}
	if method != http.MethodDelete {
		v := strconv.Itoa(r.Version)
		e.Location = r.Type + "/" + r.ID + "/_history/" + v
		e.Etag = `W/"` + v + `"`
		e.LastModified = r.LastUpdated.UTC().Format(time.RFC3339Nano)
	}
	return responseEntry{Response: e}
}

func skippedEntry(p mapping.EntryPlan) responseEntry {
	return responseEntry{Response: entryResponse{Status: "200 OK", Outcome: &operationOutcome{ResourceType: "OperationOutcome",
		Issue: []workitem.Issue{{Severity: "information", Code: "informational", Diagnostics: p.Skipped,
			Expression: []string{"Bundle.entry[" + strconv.Itoa(p.Index) + "]"}}}}}}
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
