package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// seedSpace is the UUID namespace of seeded ids (a fixed random UUID).
var seedSpace = uuid.MustParse("5f0c8a8e-3b6e-4c1f-9d55-2f4b7a0e9c31")

// SeededID is the id RawSeeded gives the create at entry index of the
// message named by seed: a name-based (SHA-1) UUID, the same for the same
// seed and index.
func SeededID(seed string, index int) string {
	return uuid.NewSHA1(seedSpace, []byte(seed+"#"+strconv.Itoa(index))).String()
}

// IsReceiverFault reports whether err is codebridge's own failure (the
// database or another dependency down: Transient, or an unclassified
// Internal error) rather than a problem with what was sent. A sender should
// retry the same message later; it must not be set aside as bad.
func IsReceiverFault(err error) bool {
	if err == nil {
		return false
	}
	k := workitem.KindOf(err)
	return k == workitem.Transient || k == workitem.Internal
}

// asBatch turns a collection, searchset or other Bundle into a batch whose
// entries PUT resources with an id and POST the others.
func asBatch(b *fhir.Bundle) {
	b.Type = "batch"
	for i := range b.Entries {
		e := &b.Entries[i]
		e.IfNoneExist, e.IfMatch, e.IfNoneMatch = "", "", ""
		switch {
		case e.Resource == nil:
			e.Method, e.URL = http.MethodPost, ""
		case e.Resource.ID != "":
			e.Method, e.URL = http.MethodPut, e.Resource.Type+"/"+e.Resource.ID
		default:
			e.Method, e.URL = http.MethodPost, e.Resource.Type
		}
	}
}

// seedCreates turns the plain creates of b (POST Type, no If-None-Exist)
// into PUT Type/SeededID(seed, index). The resource's own id, which a POST
// ignores, is dropped so the seeded one is written into it. Entries that
// planning would reject or skip are left for it to report.
func seedCreates(b *fhir.Bundle, seed string) {
	for i := range b.Entries {
		e := &b.Entries[i]
		if e.Method != http.MethodPost || e.IfNoneExist != "" || e.Resource == nil {
			continue
		}
		typ := strings.TrimPrefix(e.URL, "/")
		if typ != e.Resource.Type || !mapping.IsSupported(typ) {
			continue
		}
		e.Method, e.URL = http.MethodPut, typ+"/"+SeededID(seed, i)
		e.Resource.ID = ""
	}
}

// sniffType reads the top-level resourceType without validating, stopping
// as soon as it is found (it is usually the first key); "" when raw is not
// a JSON object with one. The validating parse then runs once.
func sniffType(raw []byte) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return ""
		}
		if k == "resourceType" {
			var v string
			if dec.Decode(&v) != nil {
				return ""
			}
			return v
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return ""
		}
	}
	return ""
}

// WriteFor gives a DELETE its stored body: a tombstone naming the
// resource, so a version read of a deleted version still answers. Other
// writes are returned as they are.
func WriteFor(w workitem.ResourceWrite) workitem.ResourceWrite {
	if w.Method != http.MethodDelete {
		return w
	}
	w.Serve = func(v int, at time.Time) ([]byte, error) {
		return fhir.SetMeta([]byte(`{"resourceType":"`+w.Type+`","id":"`+w.ID+`"}`), strconv.Itoa(v), at)
	}
	return w
}

// DomainError is the one conversion of an error into codebridge's error
// kinds, used by every edge: err itself, its context kept, when a
// *workitem.Error is in its chain; a FHIR parse or validation error as
// Invalid (unparseable) or Unprocessable (invalid content) with its issues;
// anything else as Internal, with err as its cause. nil stays nil.
func DomainError(err error) error {
	var we *workitem.Error
	if err == nil || errors.As(err, &we) {
		return err
	}
	if fe, ok := fhir.AsError(err); ok {
		k := workitem.Unprocessable
		if fe.Status == http.StatusBadRequest {
			k = workitem.Invalid
		}
		out := &workitem.Error{Kind: k, Message: fe.Error()}
		for _, iss := range fe.Issues {
			out.Issues = append(out.Issues, workitem.Issue{Severity: iss.Severity, Code: iss.Code, Diagnostics: iss.Diagnostics, Expression: iss.Expression})
		}
		return out
	}
	return &workitem.Error{Kind: workitem.Internal, Message: "internal error", Err: err}
}

// failed is the outcome of batch entry i that failed with err.
func failed(i int, typ, id string, err error) Entry {
	var we *workitem.Error
	errors.As(DomainError(err), &we)
	return Entry{Index: i, Type: typ, ID: id, Err: we}
}
