package fhir

import "testing"

func TestSetID(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"resourceType":"Patient","id":"old","active":true}`, `{"resourceType":"Patient","id":"new","active":true}`},
		{`{"resourceType":"Patient","active":true}`, `{"id":"new","resourceType":"Patient","active":true}`},
		{`{}`, `{"id":"new"}`},
		{`{"resourceType":"Patient","contained":[{"id":"x"}]}`, `{"id":"new","resourceType":"Patient","contained":[{"id":"x"}]}`},
	}
	for _, tt := range tests {
		got, err := SetID([]byte(tt.in), "new")
		if err != nil || string(got) != tt.want {
			t.Errorf("SetID(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	if _, err := SetID([]byte(`[1]`), "x"); err == nil {
		t.Error("SetID on an array must fail")
	}
}
