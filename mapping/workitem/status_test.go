package workitem

import (
	"strings"
	"testing"
)

func TestMove(t *testing.T) {
	tests := []struct {
		from, to Status
		ok       bool
	}{
		{Pending, Ready, true},
		{Ready, InProgress, true},
		{InProgress, OnHold, true},
		{OnHold, InProgress, true},
		{InProgress, Coded, true},
		{Coded, InReview, true},
		{InReview, Completed, true},
		{Completed, Reopened, true},
		{Reopened, InProgress, true},
		{Cancelled, Ready, true},
		{Pending, Completed, false},
		{Completed, InProgress, false},
		{OnHold, Coded, false},
		{Cancelled, Completed, false},
	}
	for _, tt := range tests {
		err := Move(tt.from, tt.to)
		if (err == nil) != tt.ok {
			t.Errorf("Move(%s, %s) = %v, want ok=%v", tt.from, tt.to, err, tt.ok)
		}
		if err != nil && (KindOf(err) != Conflict || !strings.Contains(err.Error(), "allowed:")) {
			t.Errorf("Move(%s, %s) error %v: want a Conflict naming the allowed moves", tt.from, tt.to, err)
		}
	}
	for _, s := range Statuses() {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
		for _, to := range transitions[s] {
			if !to.Valid() {
				t.Errorf("%s -> unknown %s", s, to)
			}
		}
	}
	if Status("bogus").Valid() {
		t.Error("bogus status valid")
	}
}
