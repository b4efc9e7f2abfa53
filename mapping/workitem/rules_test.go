package workitem

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// kindOrOK names the outcome of a rule: "ok" or the error's kind.
func kindOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return KindOf(err).String()
}

func TestMayCode(t *testing.T) {
	alice := func(r Role) Actor { return Actor{Name: "alice", Role: r} }
	tests := []struct {
		name   string
		status Status
		holder string
		a      Actor
		want   string
	}{
		{"coder holding the lease", InProgress, "alice", alice(RoleCoder), "ok"},
		{"coder, another's lease", InProgress, "bob", alice(RoleCoder), "conflict"},
		{"admin, another's lease", InProgress, "bob", alice(RoleAdmin), "ok"},
		{"admin in review", InReview, "", alice(RoleAdmin), "ok"},
		{"auditor in review", InReview, "", alice(RoleAuditor), "ok"},
		{"auditor in progress", InProgress, "alice", alice(RoleAuditor), "forbidden"},
		{"coder in review", InReview, "alice", alice(RoleCoder), "forbidden"},
		{"ehr in progress", InProgress, "alice", alice(RoleEHR), "forbidden"},
		{"coder, ready item", Ready, "", alice(RoleCoder), "conflict"},
		{"admin, completed item", Completed, "", alice(RoleAdmin), "conflict"},
		{"auditor, coded item", Coded, "", alice(RoleAuditor), "conflict"},
	}
	for _, tt := range tests {
		it := Item{ID: "wi-1", Status: tt.status, Assignee: tt.holder}
		if got := kindOrOK(MayCode(it, tt.a)); got != tt.want {
			t.Errorf("%s: MayCode = %s, want %s", tt.name, got, tt.want)
		}
		if got := kindOrOK(MaySubmit(it, tt.a)); got != tt.want {
			t.Errorf("%s: MaySubmit = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestMayOpenQuery(t *testing.T) {
	tests := []struct {
		name   string
		status Status
		holder string
		a      Actor
		want   string
	}{
		{"coder holding the lease", InProgress, "alice", Actor{"alice", RoleCoder}, "ok"},
		{"coder, another's lease", InProgress, "bob", Actor{"alice", RoleCoder}, "conflict"},
		{"admin, another's lease", InProgress, "bob", Actor{"root", RoleAdmin}, "ok"},
		{"coder, item on hold", OnHold, "alice", Actor{"alice", RoleCoder}, "conflict"},
		{"admin, item in review", InReview, "", Actor{"root", RoleAdmin}, "conflict"},
		{"auditor holding it", InProgress, "alice", Actor{"alice", RoleAuditor}, "forbidden"},
		{"ehr", InProgress, "alice", Actor{"alice", RoleEHR}, "forbidden"},
	}
	for _, tt := range tests {
		it := Item{ID: "wi-1", Status: tt.status, Assignee: tt.holder}
		if got := kindOrOK(MayOpenQuery(it, tt.a)); got != tt.want {
			t.Errorf("%s: MayOpenQuery = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestMayAnswerQuery(t *testing.T) {
	want := map[Role]string{RoleEHR: "ok", RoleCoder: "ok", RoleAdmin: "ok", RoleAuditor: "forbidden", RoleBiller: "forbidden", "": "forbidden"}
	got := map[Role]string{}
	for r := range want {
		got[r] = kindOrOK(MayAnswerQuery(r))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MayAnswerQuery mismatch (-want +got):\n%s", diff)
	}
}

func TestPermitted(t *testing.T) {
	tests := []struct {
		r     Role
		roles []Role
		want  bool
	}{
		{RoleCoder, []Role{RoleCoder, RoleAuditor}, true},
		{RoleAuditor, []Role{RoleCoder, RoleAuditor}, true},
		{RoleBiller, []Role{RoleCoder, RoleAuditor}, false},
		{RoleAdmin, []Role{RoleCoder}, true},
		{RoleAdmin, nil, true},
		{RoleEHR, nil, false},
		{"", []Role{RoleCoder}, false},
	}
	for _, tt := range tests {
		if got := tt.r.Permitted(tt.roles...); got != tt.want {
			t.Errorf("%q.Permitted(%q) = %v, want %v", tt.r, tt.roles, got, tt.want)
		}
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range Roles() {
		if got, err := ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v; want %q", r, got, err, r)
		}
	}
	for _, s := range []string{"", "janitor", "Admin", " coder"} {
		if _, err := ParseRole(s); KindOf(err) != Invalid {
			t.Errorf("ParseRole(%q) = %v, want an Invalid error", s, err)
		}
	}
}

func TestRefuseOnEdits(t *testing.T) {
	warn := Edit{Code: "W1", Severity: "warning", Message: "check it", Target: "lines[0]"}
	bad := Edit{Code: "E1", Severity: "error", Message: "wrong", Target: "diagnoses[0]"}
	tests := []struct {
		name      string
		es        []Edit
		ack       bool
		diagnoses int
		want      string
		codes     []string
	}{
		{"clean", nil, false, 1, "ok", nil},
		{"no diagnosis", nil, true, 0, "unprocessable", []string{"DX_PRINCIPAL_MISSING"}},
		{"error edit", []Edit{warn, bad}, true, 2, "unprocessable", []string{"W1", "E1"}},
		{"warning unacknowledged", []Edit{warn}, false, 1, "unprocessable", []string{"W1"}},
		{"warning acknowledged", []Edit{warn}, true, 1, "ok", nil},
	}
	for _, tt := range tests {
		err := RefuseOnEdits(tt.es, tt.ack, tt.diagnoses)
		if got := kindOrOK(err); got != tt.want {
			t.Errorf("%s: RefuseOnEdits = %s, want %s", tt.name, got, tt.want)
			continue
		}
		var codes []string
		for _, is := range IssuesOf(err) {
			codes = append(codes, is.Code)
		}
		if diff := cmp.Diff(tt.codes, codes); diff != "" {
			t.Errorf("%s: issues mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

// TestRefuseOnEditsCarriesRule: a refusal's issue carries the edit's rule
// and rule text, so the 422 of a submit names the rule it applies.
func TestRefuseOnEditsCarriesRule(t *testing.T) {
	gl := Edit{Code: "GL_EXTERNAL_CAUSE_FIRST", Severity: "error", Message: "W19.XXXA first", Target: "diagnoses[0]",
		Rule: "ICD-10-CM Official Guidelines for Coding and Reporting FY2026, section I.C.20", RuleText: "never first-listed"}
	is := IssuesOf(RefuseOnEdits([]Edit{gl}, true, 1))
	want := []Issue{{Severity: "error", Code: gl.Code, Diagnostics: gl.Message, Expression: []string{"diagnoses[0]"}, Rule: gl.Rule, RuleText: gl.RuleText}}
	if diff := cmp.Diff(want, is); diff != "" {
		t.Errorf("issues mismatch (-want +got):\n%s", diff)
	}
}

func TestChangedDocumentation(t *testing.T) {
	before := map[string]int{"Encounter/e1": 1, "Condition/c1": 2, "Patient/p1": 1, "Coverage/v1": 1}
	after := map[string]int{"Encounter/e1": 1, "Condition/c1": 3, "Procedure/x1": 1, "Patient/p1": 2, "Coverage/v2": 1}
	want := []string{"Condition/c1", "Procedure/x1"}
	if diff := cmp.Diff(want, ChangedDocumentation(before, after)); diff != "" {
		t.Errorf("ChangedDocumentation mismatch (-want +got):\n%s", diff)
	}
	if got := ChangedDocumentation(before, before); got != nil {
		t.Errorf("ChangedDocumentation(same) = %q, want none", got)
	}
}

func TestNextStatus(t *testing.T) {
	changed := []string{"Condition/c1", "Procedure/x1"}
	tests := []struct {
		cur, want Status
		changed   []string
		next      Status
		reason    string
	}{
		{Ready, Cancelled, nil, Cancelled, "encounter withdrawn"},
		{Completed, Cancelled, changed, Cancelled, "encounter withdrawn"},
		{Cancelled, Cancelled, changed, Cancelled, ""},
		{Cancelled, Ready, nil, Ready, "encounter reinstated"},
		{Cancelled, Pending, nil, Pending, "encounter reinstated"},
		{Pending, Ready, nil, Ready, "encounter finished"},
		{Ready, Pending, nil, Pending, "encounter no longer finished"},
		{Coded, Ready, changed, Reopened, "new documentation: Condition/c1, Procedure/x1"},
		{InReview, Ready, changed, Reopened, "new documentation: Condition/c1, Procedure/x1"},
		{Completed, Ready, changed, Reopened, "new documentation: Condition/c1, Procedure/x1"},
		{Completed, Ready, nil, Completed, ""},
		{InProgress, Ready, changed, InProgress, ""},
		{InProgress, Pending, nil, InProgress, ""},
		{Reopened, Ready, changed, Reopened, ""},
	}
	for _, tt := range tests {
		next, reason := NextStatus(tt.cur, tt.want, tt.changed)
		if next != tt.next || reason != tt.reason {
			t.Errorf("NextStatus(%s, %s, %q) = %s, %q; want %s, %q", tt.cur, tt.want, tt.changed, next, reason, tt.next, tt.reason)
		}
	}
}

func TestRouteCoded(t *testing.T) {
	defaults := []string{"IMP", "ACUTE", "EMER", "OBSENC"}
	tests := []struct {
		name          string
		class         string
		institutional []string
		rate, draw    float64
		want          Status
		drawn         bool
	}{
		{"inpatient, default classes", "IMP", nil, 0, 0.5, InReview, false},
		{"acute, configured defaults", "ACUTE", defaults, 0, 0.5, InReview, false},
		{"emergency is sampled", "EMER", defaults, 0.05, 0.5, Completed, true},
		{"observation sampled in", "OBSENC", defaults, 0.05, 0.01, InReview, true},
		{"ambulatory sampled out", "AMB", nil, 0.05, 0.05, Completed, true},
		{"ambulatory sampled in", "AMB", nil, 0.05, 0.049, InReview, true},
		{"rate 1 reviews all", "AMB", nil, 1, 0.999, InReview, true},
		{"rate 0 reviews none", "VR", nil, 0, 0, Completed, true},
		{"inpatient not institutional here", "IMP", []string{"EMER"}, 0, 0.5, Completed, true},
		{"inpatient configured alone", "IMP", []string{"IMP"}, 0, 0.5, InReview, false},
	}
	for _, tt := range tests {
		drawn := false
		got := RouteCoded(tt.class, tt.institutional, tt.rate, func() float64 { drawn = true; return tt.draw })
		if got != tt.want || drawn != tt.drawn {
			t.Errorf("%s: RouteCoded = %s (drawn %v), want %s (drawn %v)", tt.name, got, drawn, tt.want, tt.drawn)
		}
	}
}

func TestRoleFromScopes(t *testing.T) {
	clinical := func(typ string) bool { return typ == "Encounter" || typ == "DocumentReference" }
	tests := []struct {
		scopes []string
		want   Role
	}{
		{[]string{"system/Encounter.write"}, RoleEHR},
		{[]string{"system/DocumentReference.*"}, RoleEHR},
		{[]string{"system/*.*"}, RoleEHR},
		{[]string{"system/Encounter.c"}, RoleEHR},
		{[]string{"system/*.cruds"}, RoleEHR},
		{[]string{"system/Observation.write"}, ""},
		{[]string{"system/Encounter.rs"}, ""},
		{[]string{"system/Encounter.dc"}, ""}, // out of order: not a v2 permission
		{[]string{"system/Claim.read"}, RoleBiller},
		{[]string{"system/*.read"}, RoleBiller},
		{[]string{"user/Claim.s"}, RoleBiller},
		{[]string{"user/*.*"}, RoleCoder},
		{[]string{"user/*.write"}, RoleCoder},
		{[]string{"user/Encounter.write"}, ""},
		{[]string{"patient/*.read"}, ""},
		{[]string{"system/Encounter.c?patient=1"}, ""},
		{[]string{"user/*.*", "system/*.write"}, RoleEHR},
		{[]string{"user/*.*", "system/Claim.read"}, RoleBiller},
		{[]string{"system/*.read", "system/*.write"}, RoleEHR},
		{[]string{"system/Claim.read", "system/Encounter.write"}, RoleEHR},
		{[]string{"codebridge/role.admin", "codebridge/role.ehr"}, RoleAdmin},
		{[]string{"codebridge/role.ehr", "user/*.*"}, RoleEHR},
		{[]string{"codebridge/role.root"}, ""},
		{[]string{"openid", "profile"}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		got, ok := RoleFromScopes(tt.scopes, clinical)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("RoleFromScopes(%q) = %q, %v; want %q", tt.scopes, got, ok, tt.want)
		}
	}
}

func TestScopesUnmarshal(t *testing.T) {
	tests := []struct {
		in   string
		want Scopes
		ok   bool
	}{
		{`"openid  user/*.* codebridge/role.coder"`, Scopes{"openid", "user/*.*", "codebridge/role.coder"}, true},
		{`["openid", "system/*.read system/*.write"]`, Scopes{"openid", "system/*.read", "system/*.write"}, true},
		{`""`, Scopes{}, true},
		{`42`, nil, false},
	}
	for _, tt := range tests {
		var got Scopes
		err := got.UnmarshalJSON([]byte(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("UnmarshalJSON(%s) error = %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if diff := cmp.Diff(tt.want, got); tt.ok && diff != "" {
			t.Errorf("UnmarshalJSON(%s) mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}
