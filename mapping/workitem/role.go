package workitem

import (
	"encoding/json"
	"strings"
)

// Role is what a principal may do in codebridge: the role of a static API
// token (CODEBRIDGE_API_TOKENS), or the one its JWT or OIDC scopes map to.
type Role string

// The roles. An EHR writes clinical resources and answers queries; a coder
// leases, codes and submits work items and raises queries; an auditor
// reviews items in QA; a biller reads Claims; an admin may do everything.
const (
	RoleEHR     Role = "ehr"
	RoleCoder   Role = "coder"
	RoleAuditor Role = "auditor"
	RoleBiller  Role = "biller"
	RoleAdmin   Role = "admin"
)

// Roles lists every role in a stable order.
func Roles() []Role { return []Role{RoleEHR, RoleCoder, RoleAuditor, RoleBiller, RoleAdmin} }

// ParseRole answers the role named s, or an Invalid error listing the
// known roles.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if string(r) == s {
			return r, nil
		}
	}
	names := make([]string, 0, len(Roles()))
	for _, r := range Roles() {
		names = append(names, string(r))
	}
	return "", Errorf(Invalid, "unknown role %q (want one of %s)", s, strings.Join(names, ", "))
}

// Permitted reports whether r is one of roles or is admin, which is
// permitted everything.
func (r Role) Permitted(roles ...Role) bool {
	if r == RoleAdmin {
		return true
	}
	for _, k := range roles {
		if r == k {
			return true
		}
	}
	return false
}

// RoleScopePrefix starts the codebridge-specific scopes that grant a role
// explicitly: codebridge/role.admin, codebridge/role.auditor, and so on for
// every role.
const RoleScopePrefix = "codebridge/role."

// roleRank orders the roles by privilege, least first.
var roleRank = map[Role]int{RoleBiller: 1, RoleEHR: 2, RoleCoder: 3, RoleAuditor: 4, RoleAdmin: 5}

// RoleFromScopes maps granted OAuth scopes to one role, for API JWTs and
// the workbench's OIDC sign-in alike (README "JWT authentication" has the
// table):
//
//	system/{clinical type or *}.write|*|c,u,d (SMART v2)  ehr
//	user/*.write|*|c,u,d                                  coder
//	system|user/{Claim or *}.read|r,s                     biller
//	codebridge/role.{role}                                that role, explicitly
//
// clinical reports whether a resource type is a clinical type codebridge
// accepts. Explicit codebridge/role.* grants win, and among them the most
// privileged. Without one, a write scope on clinical types makes the EHR
// role (whatever read scopes come with it); otherwise, when the
// SMART-derived roles differ, the least privileged is taken, since no scope
// granted the stronger one explicitly. patient/ scopes, query-restricted
// SMART v2 scopes and unknown scopes map to nothing. ok is false when no
// scope maps.
func RoleFromScopes(scopes []string, clinical func(resourceType string) bool) (role Role, ok bool) {
	var explicit, derived Role
	for _, s := range scopes {
		if r, isRole := strings.CutPrefix(s, RoleScopePrefix); isRole {
			if roleRank[Role(r)] > roleRank[explicit] {
				explicit = Role(r)
			}
			continue
		}
		r := smartRole(s, clinical)
		switch {
		case r == "" || derived == RoleEHR:
		case r == RoleEHR:
			// A client granted writes on clinical types is an EHR client; the
			// read scopes that come with them (SMART v1 system/*.read
			// system/*.write) do not demote it to biller.
			derived = r
		case derived == "" || roleRank[r] < roleRank[derived]:
			derived = r
		}
	}
	if explicit != "" {
		return explicit, true
	}
	return derived, derived != ""
}

// smartRole maps one SMART scope (context/Type.permissions) to a role, or "".
func smartRole(scope string, clinical func(string) bool) Role {
	scopeCtx, rest, ok := strings.Cut(scope, "/")
	if !ok {
		return ""
	}
	typ, perm, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(perm, "?") {
		return "" // a v2 query restriction cannot be enforced here: grant nothing
	}
	read, write := smartPermissions(perm)
	switch {
	case scopeCtx == "system" && write && (typ == "*" || clinical(typ)):
		return RoleEHR
	case scopeCtx == "user" && write && typ == "*":
		return RoleCoder
	case (scopeCtx == "system" || scopeCtx == "user") && read && (typ == "*" || typ == "Claim"):
		return RoleBiller
	}
	return ""
}

// smartPermissions reads SMART v1 (read, write, *) and v2 (an in-order
// subset of "cruds") permissions.
func smartPermissions(p string) (read, write bool) {
	switch p {
	case "read":
		return true, false
	case "write":
		return false, true
	case "*":
		return true, true
	case "":
		return false, false
	}
	rest := "cruds"
	for _, r := range p {
		i := strings.IndexRune(rest, r)
		if i < 0 {
			return false, false
		}
		rest = rest[i+1:]
	}
	return strings.ContainsAny(p, "rs"), strings.ContainsAny(p, "cud")
}

// Scopes is a token's scope claim ("scope" or "scp"): issuers send a
// space-separated string (RFC 8693) or an array; either decodes to the
// list of scopes.
type Scopes []string

// UnmarshalJSON accepts a space-separated string or an array of strings.
func (l *Scopes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = strings.Fields(s)
		return nil
	}
	var arr []string
	if err := json.Unmarshal(b, &arr); err != nil {
		return err
	}
	*l = nil
	for _, s := range arr {
		*l = append(*l, strings.Fields(s)...)
	}
	return nil
}
