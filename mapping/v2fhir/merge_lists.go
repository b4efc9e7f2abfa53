package v2fhir

import "encoding/json"

// The repeating Patient elements a PID updates only in part: PID-13 and
// PID-14 both map to telecom, and PID-3 to identifier, which a FHIR push
// may have added to. Each is merged entry by entry: the entries a sent
// field owns are replaced, the others kept.

// Telecom origins: which PID field a ContactPoint is taken to come from.
const (
	originOther = iota // neither (a use no PID field maps to): always kept
	origin13           // PID-13, home phones and e-mail
	origin14           // PID-14, business phones
)

// telecomOrigin tells a ContactPoint's origin by its use, as contactOf
// sets it: work is PID-14's (its default); home, mobile and no use are
// PID-13's (what PRN, PRS, CP and an e-mail map to); temp and old, which
// no PID field maps to, are nobody's. The stored Patient does not record
// which field an entry came from, so the use is the only mark there is:
// a FHIR-pushed work number counts as PID-14's, and a WPN sent in PID-13
// counts as PID-14's once stored.
func telecomOrigin(use string) int {
	switch use {
	case "work":
		return origin14
	case "home", "mobile", "":
		return origin13
	}
	return originOther
}

// mergeTelecom merges the ContactPoints a PID maps (fresh, from the
// fields sent says were sent) into the stored ones: a stored entry whose
// origin is a sent field's is dropped, the others are kept. See splice for
// where the fresh entries go.
func mergeTelecom(stored, fresh json.RawMessage, sent PIDSent) (json.RawMessage, error) {
	return splice(stored, fresh, func(e json.RawMessage) (string, bool, error) {
		var c struct {
			Use string `json:"use"`
		}
		if err := json.Unmarshal(e, &c); err != nil {
			return "", false, err
		}
		switch telecomOrigin(c.Use) {
		case origin13:
			return "PID-13", sent.PID13, nil
		case origin14:
			return "PID-14", sent.PID14, nil
		}
		return "", false, nil
	})
}

// mergeIdentifiers merges the identifiers a PID-3 maps (fresh) into the
// stored ones: a stored identifier with the key (identifierKey) of a
// fresh one is dropped, the others (other systems: a FHIR push's, or an
// assigning authority this message did not send) are kept.
func mergeIdentifiers(stored, fresh json.RawMessage) (json.RawMessage, error) {
	var fs []json.RawMessage
	if err := json.Unmarshal(fresh, &fs); err != nil {
		return nil, err
	}
	keys := map[string]bool{}
	for _, e := range fs {
		k, err := identifierKey(e)
		if err != nil {
			return nil, err
		}
		keys[k] = k != ""
	}
	return splice(stored, fresh, func(e json.RawMessage) (string, bool, error) {
		k, err := identifierKey(e)
		return k, keys[k], err
	})
}

// identifierKey is what tells which identifiers a PID-3 identifier
// replaces: its system; without one, its type (first coding, else text)
// and assigner (reference, identifier or display). "" (nothing to match
// by) matches nothing.
func identifierKey(e json.RawMessage) (string, error) {
	var id struct {
		System string `json:"system"`
		Type   *struct {
			Coding []struct{ System, Code string }
			Text   string
		}
		Assigner *struct {
			Reference  string
			Display    string
			Identifier *struct{ System, Value string }
		}
	}
	if err := json.Unmarshal(e, &id); err != nil {
		return "", err
	}
	if id.System != "" {
		return "system " + id.System, nil
	}
	var typ, by string
	if t := id.Type; t != nil && len(t.Coding) > 0 {
		typ = t.Coding[0].System + "|" + t.Coding[0].Code
	} else if t != nil {
		typ = t.Text
	}
	if a := id.Assigner; a != nil {
		switch {
		case a.Reference != "":
			by = a.Reference
		case a.Identifier != nil:
			by = a.Identifier.System + "|" + a.Identifier.Value
		default:
			by = a.Display
		}
	}
	if typ == "" && by == "" {
		return "", nil
	}
	k, _ := json.Marshal([]string{typ, by})
	return "type+assigner " + string(k), nil
}

// splice merges the fresh entries of a list into the stored ones. group
// names an entry's group (an identifier's system, a ContactPoint's
// origin) and whether the message replaces that group. Stored entries of
// a replaced group are dropped, and the fresh entries of that group take
// the place of the first of them, or go at the end when none was stored;
// a fresh entry of a group not replaced (a WPN in PID-13 while only
// PID-13 was sent) is appended unless an equal entry is already there.
// Kept entries keep their order, so a list a FHIR push ordered stays so,
// and splicing the same fresh entries into the result again gives the
// result: a re-sent message makes no new version. An empty result is nil
// (the element is removed).
func splice(stored, fresh json.RawMessage, group func(json.RawMessage) (string, bool, error)) (json.RawMessage, error) {
	var ss, fs []json.RawMessage
	for _, l := range []struct {
		raw  json.RawMessage
		list *[]json.RawMessage
	}{{stored, &ss}, {fresh, &fs}} {
		if l.raw != nil {
			if err := json.Unmarshal(l.raw, l.list); err != nil {
				return nil, err
			}
		}
	}
	blocks := map[string][]json.RawMessage{}
	var order []string
	var extra, out []json.RawMessage
	for _, e := range fs {
		g, replaced, err := group(e)
		switch {
		case err != nil:
			return nil, err
		case !replaced:
			extra = append(extra, e)
			continue
		case blocks[g] == nil:
			order = append(order, g)
		}
		blocks[g] = append(blocks[g], e)
	}
	placed := map[string]bool{}
	for _, e := range ss {
		g, replaced, err := group(e)
		switch {
		case err != nil:
			return nil, err
		case !replaced:
			out = append(out, e)
		case !placed[g]:
			out, placed[g] = append(out, blocks[g]...), true
		}
	}
	for _, g := range order {
		if !placed[g] {
			out = append(out, blocks[g]...)
		}
	}
	for _, e := range extra {
		if !containsEqual(out, e) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return json.Marshal(out)
}

// containsEqual reports whether list holds a JSON value equal to e,
// whatever the key order and spacing of either.
func containsEqual(list []json.RawMessage, e json.RawMessage) bool {
	var want any
	if json.Unmarshal(e, &want) != nil {
		return false
	}
	for _, x := range list {
		var got any
		if json.Unmarshal(x, &got) == nil && equalJSON(got, want) {
			return true
		}
	}
	return false
}

// equalJSON compares two decoded JSON values.
func equalJSON(a, b any) bool {
	ca, errA := json.Marshal(a) // maps marshal with sorted keys
	cb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ca) == string(cb)
}
