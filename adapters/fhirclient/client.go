package fhirclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// Client is a FHIR REST client for the claim sink. BaseURL is the server's
// base ([base] in the FHIR spec, without a trailing slash). Token, when
// set, is sent as a bearer token; else User and Password, when User is set,
// as basic auth. HTTP nil uses a client with a 30 s timeout.
type Client struct {
	BaseURL  string
	Token    string
	User     string
	Password string
	HTTP     *http.Client
}

var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

// DeliveryError is a failed delivery: the HTTP status (0 for a network
// error), a short reason free of payload content, and whether retrying can
// help.
type DeliveryError struct {
	Status    int
	Reason    string
	Permanent bool
	Err       error // the underlying transport error, if any
}

// Error returns the status and reason only.
func (e *DeliveryError) Error() string {
	if e.Status == 0 {
		return "claim sink: " + e.Reason
	}
	return fmt.Sprintf("claim sink: HTTP %d %s", e.Status, e.Reason)
}

// Unwrap returns the underlying transport error.
func (e *DeliveryError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a delivery error that retrying cannot
// fix (a 4xx other than 408 and 429).
func IsPermanent(err error) bool {
	var de *DeliveryError
	return errors.As(err, &de) && de.Permanent
}

// DeliverClaim sends one version of a Claim: version 1 as a conditional
// create, later versions as a conditional update, both keyed on the
// identifier system|value. d.Raw is the stored Claim JSON; its id and meta
// are stripped and its references made logical (see LogicalReferences). It
// returns nil on 2xx and a *DeliveryError otherwise.
func (c *Client) DeliverClaim(ctx context.Context, d workitem.ClaimDelivery) error {
	identifierSystem, identifierValue, version := d.IdentifierSystem, d.IdentifierValue, d.Version
	body, err := stripIDMeta(d.Raw)
	if err == nil {
		body, err = LogicalReferences(body, d.Identifiers)
	}
	if err != nil {
		return &DeliveryError{Reason: "invalid Claim JSON", Permanent: true, Err: err}
	}
	search := url.Values{"identifier": {identifierSystem + "|" + identifierValue}}.Encode()
	base := strings.TrimRight(c.BaseURL, "/")
	method, target := http.MethodPost, base+"/Claim"
	if version > 1 {
		method, target = http.MethodPut, base+"/Claim?"+search
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return &DeliveryError{Reason: "invalid sink URL", Permanent: true, Err: err}
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Accept", "application/fhir+json")
	if method == http.MethodPost {
		req.Header.Set("If-None-Exist", search)
	}
	c.authorize(req)
	return c.do(req)
}

func (c *Client) authorize(req *http.Request) {
	switch {
	case c.Token != "":
		req.Header.Set("Authorization", "Bearer "+c.Token)
	case c.User != "":
		req.SetBasicAuth(c.User, c.Password)
	}
}

// do sends req and classifies the outcome; the response body is drained
// and discarded, never read into an error.
func (c *Client) do(req *http.Request) error {
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &DeliveryError{Reason: networkReason(err), Err: err}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return classify(resp.StatusCode)
}

// classify maps a status code to nil (2xx) or a *DeliveryError.
func classify(status int) error {
	if status >= 200 && status < 300 {
		return nil
	}
	retryable := status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
	reason := http.StatusText(status)
	if reason == "" {
		reason = "status " + strconv.Itoa(status)
	}
	return &DeliveryError{Status: status, Reason: reason, Permanent: !retryable}
}

// networkReason names a transport failure without the request URL (which
// carries the Claim identifier).
func networkReason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "network error: timeout"
	case errors.Is(err, context.Canceled):
		return "network error: cancelled"
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return "network error: timeout"
	}
	return "network error: connection failed"
}

// stripIDMeta removes the top-level id and meta of a FHIR resource.
func stripIDMeta(raw []byte) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("fhirclient: decode Claim: %w", err)
	}
	delete(doc, "id")
	delete(doc, "meta")
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("fhirclient: encode Claim: %w", err)
	}
	return b, nil
}
