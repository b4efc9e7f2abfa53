package webui

import (
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// segment is a run of document text; Codes is set on the runs that are
// evidence for codes (drawn as <mark>).
type segment struct {
	Text  string
	Codes string
}

// evidenceTerm is a phrase that, found in a note, is evidence for Code.
type evidenceTerm struct {
	Phrase string
	Code   string
}

var (
	parenthetical = regexp.MustCompile(`\s*\([^)]*\)`)
	vagueSuffix   = regexp.MustCompile(`(?i)[,\s]+(unspecified|not otherwise specified|nos|site not specified)$`)
)

// evidenceTerms derives, for each suggested code, the phrases the EHR
// used for it: the documented item's text and the displays of its codings,
// without parentheticals and vague suffixes ("Essential (primary)
// hypertension" → "Essential hypertension"; "Acute bronchitis,
// unspecified" → "Acute bronchitis").
func evidenceTerms(c *workitem.Chart) []evidenceTerm {
	if c == nil {
		return nil
	}
	items := map[string]workitem.DocumentedItem{}
	for _, d := range append(slices.Clone(c.Conditions), c.Procedures...) {
		items[d.Reference] = d
	}
	var out []evidenceTerm
	seen := map[string]bool{}
	add := func(phrase, code string) {
		for _, p := range phraseVariants(phrase) {
			key := strings.ToLower(p) + "\x00" + code
			if len(p) >= 3 && !seen[key] {
				seen[key] = true
				out = append(out, evidenceTerm{Phrase: p, Code: code})
			}
		}
	}
	for _, sc := range c.SuggestedCodes {
		add(sc.Display, sc.Code)
		if d, ok := items[sc.Source]; ok {
			add(d.Text, sc.Code)
			for _, cd := range d.Codings {
				add(cd.Display, sc.Code)
			}
		}
	}
	return out
}

func phraseVariants(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	clean := strings.TrimSpace(vagueSuffix.ReplaceAllString(parenthetical.ReplaceAllString(s, ""), ""))
	out := []string{s}
	if clean != s && clean != "" {
		out = append(out, clean)
	}
	if first, _, ok := strings.Cut(clean, ","); ok && strings.TrimSpace(first) != "" {
		out = append(out, strings.TrimSpace(first))
	}
	return out
}

type span struct {
	start, end int
	codes      []string
}

// highlight splits text into segments, marking every case-insensitive,
// whole-word occurrence of a term; overlapping marks merge.
func highlight(text string, terms []evidenceTerm) []segment {
	var spans []span
	for _, t := range terms {
		re, err := regexp.Compile(`(?i)\b` + regexp.QuoteMeta(t.Phrase) + `\b`)
		if err != nil {
			continue
		}
		for _, m := range re.FindAllStringIndex(text, -1) {
			spans = append(spans, span{m[0], m[1], []string{t.Code}})
		}
	}
	if len(spans) == 0 {
		return []segment{{Text: text}}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	merged := []span{spans[0]}
	for _, sp := range spans[1:] {
		last := &merged[len(merged)-1]
		if sp.start < last.end {
			last.end = max(last.end, sp.end)
			last.codes = append(last.codes, sp.codes...)
			continue
		}
		merged = append(merged, sp)
	}
	var out []segment
	pos := 0
	for _, sp := range merged {
		if sp.start > pos {
			out = append(out, segment{Text: text[pos:sp.start]})
		}
		codes := slices.Compact(slices.Sorted(slices.Values(sp.codes)))
		out = append(out, segment{Text: text[sp.start:sp.end], Codes: strings.Join(codes, ", ")})
		pos = sp.end
	}
	if pos < len(text) {
		out = append(out, segment{Text: text[pos:]})
	}
	return out
}
