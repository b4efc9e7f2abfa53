package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/codebridge/codebridge/fhir"
)

// The kinds of visit the load generator makes.
const (
	telehealth = "telehealth"
	office     = "office"
	ed         = "ed"
	inpatient  = "inpatient"
)

// kinds are the kinds in report order.
var kinds = []string{telehealth, office, ed, inpatient}

// mixShare is one kind's weight in the mix.
type mixShare struct {
	Kind   string
	Weight int
}

// visitMix is the share of each kind of visit, as given by --mix.
type visitMix []mixShare

// parseMix reads "telehealth=40,office=30,ed=20,inpatient=10". Kinds
// left out get no visits; weights need not add up to 100.
func parseMix(s string) (visitMix, error) {
	var mix visitMix
	seen := map[string]bool{}
	total := 0
	for _, part := range strings.Split(s, ",") {
		kind, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		kind = strings.ToLower(strings.TrimSpace(kind))
		n, err := strconv.Atoi(strings.TrimSpace(w))
		switch {
		case !ok || err != nil || n < 0:
			return nil, fmt.Errorf("--mix %q: want kind=weight,... (e.g. telehealth=40,office=30,ed=20,inpatient=10)", s)
		case diagnoses[kind] == nil:
			return nil, fmt.Errorf("--mix: unknown kind %q (want telehealth, office, ed, inpatient)", kind)
		case seen[kind]:
			return nil, fmt.Errorf("--mix: %s given twice", kind)
		}
		seen[kind] = true
		total += n
		if n > 0 {
			mix = append(mix, mixShare{kind, n})
		}
	}
	if total == 0 {
		return nil, fmt.Errorf("--mix %q: the weights add up to 0", s)
	}
	return mix, nil
}

// String renders the mix as --mix takes it.
func (m visitMix) String() string {
	parts := make([]string, len(m))
	for i, s := range m {
		parts[i] = fmt.Sprintf("%s=%d", s.Kind, s.Weight)
	}
	return strings.Join(parts, ",")
}

func (m visitMix) pick(r *rand.Rand) string {
	total := 0
	for _, s := range m {
		total += s.Weight
	}
	n := r.IntN(total)
	for _, s := range m {
		if n < s.Weight {
			return s.Kind
		}
		n -= s.Weight
	}
	return m[len(m)-1].Kind
}

// generator makes synthetic transaction Bundles. Bundle i depends only on
// the seed, the run label and i, so a run can be repeated exactly and any
// Bundle regenerated (the parse bound re-reads the same Bundles).
type generator struct {
	seed   uint64
	run    string // in MRNs and visit numbers, so runs never collide
	mix    visitMix
	titles codeTitles
}

// visit is one generated Bundle.
type visit struct {
	Kind      string
	Body      []byte
	Resources int
	// Encounters are the entry indexes of the Encounters, whose
	// transaction-response locations name the stored Encounters.
	Encounters []int
	Kinds      []string // the kind of each Encounter
}

// newGenerator checks the curated codes against the bundled code sets and
// returns a generator.
func newGenerator(seed uint64, run string, mix visitMix) (*generator, error) {
	titles, err := codeTable()
	if err != nil {
		return nil, err
	}
	return &generator{seed: seed, run: run, mix: mix, titles: titles}, nil
}

// Visit returns Bundle i: one visit as a transaction.
func (g *generator) Visit(i int64) visit {
	return g.batch(i, 1)
}

// Batch returns preload Bundle i: a transaction of n visits, drawn from a
// stream of indexes apart from Visit's.
func (g *generator) Batch(i int64, n int) visit {
	return g.batch(-1-i, n)
}

// kindAt is the kind of visit Bundle i holds, without making the Bundle.
func (g *generator) kindAt(i int64) string { return g.mix.pick(g.rng(i)) }

// rng is the random stream of Bundle i; a Bundle's first draw is its
// (first) visit's kind.
func (g *generator) rng(i int64) *rand.Rand { return rand.New(rand.NewPCG(g.seed, uint64(i))) }

func (g *generator) batch(i int64, n int) visit {
	r := g.rng(i)
	var v visit
	var entries []jsonObj
	for k := range n {
		kind := g.mix.pick(r)
		vb := &visitBuilder{g: g, r: r, kind: kind, label: fmt.Sprintf("%s-%d-%d", g.run, i, k)}
		es, enc := vb.entries()
		v.Encounters = append(v.Encounters, len(entries)+enc)
		v.Kinds = append(v.Kinds, kind)
		entries = append(entries, es...)
	}
	v.Kind = v.Kinds[0]
	v.Resources = len(entries)
	v.Body, _ = json.Marshal(jsonObj{"resourceType": "Bundle", "type": "transaction", "entry": entries})
	return v
}

// Providers returns a transaction Bundle of every organization and
// clinician the visits name, as conditional creates. Sent once before the
// load, it sets up the provider directory that visits then find, as a
// live EHR's would be; concurrent first creates of one provider are
// otherwise refused with 409 (retry) by design.
func (g *generator) Providers() []byte {
	var entries []jsonObj
	add := func(typ string, res jsonObj, npi string) {
		res["resourceType"] = typ
		entries = append(entries, jsonObj{"fullUrl": fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", len(entries)+1), "resource": res,
			"request": jsonObj{"method": "POST", "url": typ, "ifNoneExist": "identifier=" + fhir.SystemNPI + "|" + npi}})
	}
	for _, kind := range kinds {
		for o := range orgs[kind] {
			org, npi := organization(kind, o)
			add("Organization", org, npi)
			for p := range Clinicians {
				prac, npi := practitioner(kind, o, p)
				add("Practitioner", prac, npi)
			}
		}
	}
	body, _ := json.Marshal(jsonObj{"resourceType": "Bundle", "type": "transaction", "entry": entries})
	return body
}

// jsonObj is a JSON object under construction.
type jsonObj = map[string]any

// visitBuilder builds the entries of one visit.
type visitBuilder struct {
	g     *generator
	r     *rand.Rand
	kind  string
	label string
	start time.Time
	end   time.Time
	urls  map[string]string // role -> urn:uuid fullUrl
}

// fy2026 is the first day of FY2026; visits start within the next 355
// days so that even a week's inpatient stay ends inside the fiscal year.
var fy2026 = time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)

// entries returns the visit's entries and the index of its Encounter.
func (b *visitBuilder) entries() ([]jsonObj, int) {
	b.dates()
	b.urls = map[string]string{}
	for _, role := range []string{"patient", "coverage", "org", "practitioner", "encounter", "note"} {
		b.urls[role] = b.uuid()
	}
	org, prac, orgNPI, pracNPI := b.provider()
	dxs := sample(b.r, diagnoses[b.kind], weighted(b.r, 30, 28, 18, 12, 7, 5)+1)
	out := []jsonObj{
		b.entry("patient", "Patient", b.patient(), "identifier="+mrnSystem+"|"+b.mrn()),
		b.entry("coverage", "Coverage", b.coverage(), ""),
		b.entry("org", "Organization", org, "identifier="+fhir.SystemNPI+"|"+orgNPI),
		b.entry("practitioner", "Practitioner", prac, "identifier="+fhir.SystemNPI+"|"+pracNPI),
		b.entry("encounter", "Encounter", b.encounter(), ""),
	}
	var ranked []jsonObj // Encounter.diagnosis: the first drawn diagnosis is first-listed
	for i, d := range dxs {
		url := b.uuid()
		out = append(out, b.entry(url, "Condition", b.condition(d), ""))
		ranked = append(ranked, jsonObj{"condition": jsonObj{"reference": url}, "rank": i + 1})
	}
	out[4]["resource"].(jsonObj)["diagnosis"] = ranked
	for _, c := range b.procedureCodings() {
		out = append(out, b.entry(b.uuid(), "Procedure", b.procedure(c), ""))
	}
	out = append(out, b.entry("note", "DocumentReference", b.note(dxs), ""))
	return out, 4
}

// dates picks the visit's period inside FY2026.
func (b *visitBuilder) dates() {
	day := fy2026.AddDate(0, 0, b.r.IntN(355))
	switch b.kind {
	case telehealth:
		b.start = day.Add(time.Duration(8*60+b.r.IntN(12*60)) * time.Minute)
		b.end = b.start.Add(time.Duration(10+b.r.IntN(30)) * time.Minute)
	case office:
		b.start = day.Add(time.Duration(8*60+b.r.IntN(9*60)) * time.Minute)
		b.end = b.start.Add(time.Duration(15+b.r.IntN(30)) * time.Minute)
	case ed:
		b.start = day.Add(time.Duration(b.r.IntN(24*60)) * time.Minute)
		b.end = b.start.Add(time.Duration(90+b.r.IntN(7*60)) * time.Minute)
	default:
		b.start = day.Add(time.Duration(b.r.IntN(24*60)) * time.Minute)
		b.end = b.start.Add(time.Duration(2*24*60+b.r.IntN(5*24*60)) * time.Minute)
	}
}

func (b *visitBuilder) uuid() string {
	r := b.r
	return fmt.Sprintf("urn:uuid:%08x-%04x-4%03x-%04x-%012x", r.Uint32(), r.Uint32()&0xffff,
		r.Uint32()&0xfff, 0x8000|r.Uint32()&0x3fff, r.Uint64()&0xffffffffffff)
}

// entry makes a POST entry; role names a fullUrl made in entries, or is the
// fullUrl itself.
func (b *visitBuilder) entry(role, typ string, res jsonObj, ifNoneExist string) jsonObj {
	url := b.urls[role]
	if url == "" {
		url = role
	}
	res["resourceType"] = typ
	req := jsonObj{"method": "POST", "url": typ}
	if ifNoneExist != "" {
		req["ifNoneExist"] = ifNoneExist
	}
	return jsonObj{"fullUrl": url, "resource": res, "request": req}
}

func (b *visitBuilder) ref(role string) jsonObj { return jsonObj{"reference": b.urls[role]} }

// rfc3339 renders an instant as FHIR dateTime/instant text.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// weighted picks an index with the given weights.
func weighted(r *rand.Rand, weights ...int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

// sample picks n distinct elements of xs (all of them when n is larger),
// in random order.
func sample[T any](r *rand.Rand, xs []T, n int) []T {
	idx := r.Perm(len(xs))
	if n > len(xs) {
		n = len(xs)
	}
	out := make([]T, n)
	for i := range out {
		out[i] = xs[idx[i]]
	}
	return out
}

// sortedKinds returns the kinds of counts in report order.
func sortedKinds(counts map[string]int) []string {
	var out []string
	for k := range counts {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return kindOrder(out[i]) < kindOrder(out[j]) })
	return out
}

func kindOrder(k string) int {
	for i, x := range kinds {
		if x == k {
			return i
		}
	}
	return len(kinds)
}
