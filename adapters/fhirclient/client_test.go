package fhirclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

const rawClaim = `{"resourceType":"Claim","id":"c1","meta":{"versionId":"1"},"status":"active","identifier":[{"system":"urn:codebridge:claim","value":"item-1-v1"}]}`

// seen is one request as the test server saw it.
type seen struct {
	Method, Path, Query, IfNoneExist, ContentType, Auth string
	User, Password                                      string
	Body                                                map[string]any
}

func sinkServer(t testing.TB, status int) (*httptest.Server, *[]seen) {
	t.Helper()
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, IfNoneExist: r.Header.Get("If-None-Exist"),
			ContentType: r.Header.Get("Content-Type"), Auth: r.Header.Get("Authorization")}
		s.User, s.Password, _ = r.BasicAuth()
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &s.Body)
		got = append(got, s)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"diagnostics":"secret patient text"}]}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestDeliverClaimRequests(t *testing.T) {
	tests := []struct {
		name                    string
		version                 int
		client                  Client
		wantMethod, wantQuery   string
		wantIfNoneExist         bool
		wantAuth, wantBasicUser string
	}{
		{name: "create with bearer", version: 1, client: Client{Token: "tok"}, wantMethod: "POST", wantIfNoneExist: true, wantAuth: "Bearer tok"},
		{name: "cancel with basic", version: 2, client: Client{User: "u", Password: "p"}, wantMethod: "PUT",
			wantQuery: "identifier=urn:codebridge:claim|item-1-v1", wantBasicUser: "u"},
		{name: "no auth", version: 1, wantMethod: "POST", wantIfNoneExist: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := sinkServer(t, http.StatusCreated)
			c := tt.client
			c.BaseURL = srv.URL + "/fhir/"
			if err := c.DeliverClaim(t.Context(), delivery(rawClaim, "urn:codebridge:claim", "item-1-v1", tt.version)); err != nil {
				t.Fatalf("DeliverClaim: %v", err)
			}
			if len(*got) != 1 {
				t.Fatalf("requests = %d, want 1", len(*got))
			}
			r := (*got)[0]
			q, _ := url.QueryUnescape(r.Query)
			ine, _ := url.QueryUnescape(r.IfNoneExist)
			if r.Method != tt.wantMethod || r.Path != "/fhir/Claim" || q != tt.wantQuery {
				t.Errorf("request = %s %s?%s, want %s /fhir/Claim?%s", r.Method, r.Path, q, tt.wantMethod, tt.wantQuery)
			}
			if want := "identifier=urn:codebridge:claim|item-1-v1"; (ine == want) != tt.wantIfNoneExist {
				t.Errorf("If-None-Exist = %q, want present=%v", ine, tt.wantIfNoneExist)
			}
			if r.ContentType != "application/fhir+json" {
				t.Errorf("Content-Type = %q", r.ContentType)
			}
			if tt.wantBasicUser != "" {
				if r.User != tt.wantBasicUser || r.Password != "p" {
					t.Errorf("basic auth = %q:%q", r.User, r.Password)
				}
			} else if r.Auth != tt.wantAuth {
				t.Errorf("Authorization = %q, want %q", r.Auth, tt.wantAuth)
			}
			if _, ok := r.Body["id"]; ok || r.Body["meta"] != nil || r.Body["resourceType"] != "Claim" || r.Body["status"] != "active" {
				t.Errorf("body = %v, want the Claim without id and meta", r.Body)
			}
		})
	}
}

func TestDeliverClaimClassification(t *testing.T) {
	tests := []struct {
		status    int
		wantErr   bool
		permanent bool
	}{
		{200, false, false}, {201, false, false},
		{400, true, true}, {401, true, true}, {404, true, true}, {412, true, true}, {422, true, true},
		{408, true, false}, {429, true, false}, {500, true, false}, {503, true, false},
	}
	for _, tt := range tests {
		srv, _ := sinkServer(t, tt.status)
		c := Client{BaseURL: srv.URL}
		err := c.DeliverClaim(t.Context(), delivery(rawClaim, "s", "v", 1))
		if (err != nil) != tt.wantErr || IsPermanent(err) != tt.permanent {
			t.Errorf("status %d: err = %v permanent = %v, want err %v permanent %v", tt.status, err, IsPermanent(err), tt.wantErr, tt.permanent)
		}
		var de *DeliveryError
		if err != nil && (!errors.As(err, &de) || de.Status != tt.status || strings.Contains(err.Error(), "secret")) {
			t.Errorf("status %d: error %q is not a clean *DeliveryError", tt.status, err)
		}
	}
}

func TestDeliverClaimNetworkErrorIsRetryable(t *testing.T) {
	srv, _ := sinkServer(t, 201)
	srv.Close()
	c := Client{BaseURL: srv.URL, HTTP: &http.Client{Timeout: time.Second}}
	err := c.DeliverClaim(context.Background(), delivery(rawClaim, "s", "item-9-v1", 2))
	var de *DeliveryError
	if !errors.As(err, &de) || de.Permanent || de.Status != 0 {
		t.Fatalf("err = %v, want a retryable network DeliveryError", err)
	}
	if strings.Contains(err.Error(), "item-9") || strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("error %q leaks the request URL", err)
	}
}

func TestDeliverClaimInvalidJSONIsPermanent(t *testing.T) {
	c := Client{BaseURL: "http://127.0.0.1:1"}
	if err := c.DeliverClaim(t.Context(), delivery("{", "s", "v", 1)); !IsPermanent(err) {
		t.Fatalf("err = %v, want permanent", err)
	}
}

func delivery(raw, system, value string, version int) workitem.ClaimDelivery {
	return workitem.ClaimDelivery{Raw: []byte(raw), IdentifierSystem: system, IdentifierValue: value, Version: version}
}
