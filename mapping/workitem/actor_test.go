package workitem

import (
	"strings"
	"testing"
)

func TestValidActorName(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"coder-7", true},
		{"Zoë Müller", true},
		{"auth0|5f1c", true},
		{strings.Repeat("a", 255), true},
		{"", false},
		{strings.Repeat("a", 256), false},
		{"bad\nname", false},
		{"tab\tname", false},
		{"del\x7f", false},
		{"\xff\xfe", false},
	} {
		if got := ValidActorName(c.name); got != c.ok {
			t.Errorf("ValidActorName(%q) = %v, want %v", c.name, got, c.ok)
		}
	}
}
