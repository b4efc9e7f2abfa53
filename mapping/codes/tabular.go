package codes

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// NodeKind is the level of a node of the ICD-10-CM Tabular List.
type NodeKind string

// The levels, as the XML nests them (icd10cm_tabular.xsd): a chapter holds
// sections, a section holds categories, and a category holds its
// subcategories and codes, all of them <diag> elements.
const (
	NodeChapter NodeKind = "chapter"
	NodeSection NodeKind = "section"
	NodeDiag    NodeKind = "diag"
)

// NoteKind is the kind of a Tabular List instruction: the name of the XML
// element that holds it.
type NoteKind string

// The note kinds of icd10cm_tabular.xsd (noteType elements, and the
// extensions of sevenChrDef). Their meaning is in the ICD-10-CM Official
// Guidelines for Coding and Reporting, Section I.A: includes notes
// (I.A.10), inclusion terms (I.A.11), Excludes1 and Excludes2 (I.A.12.a, I.A.12.b), "code first" and
// "use additional code" (I.A.13, I.B.7), "code also" (I.A.17), 7th
// characters (I.A.5).
const (
	NoteInclusionTerm     NoteKind = "inclusionTerm"
	NoteIncludes          NoteKind = "includes"
	NoteExcludes1         NoteKind = "excludes1"
	NoteExcludes2         NoteKind = "excludes2"
	NoteCodeFirst         NoteKind = "codeFirst"
	NoteUseAdditionalCode NoteKind = "useAdditionalCode"
	NoteCodeAlso          NoteKind = "codeAlso"
	NoteNotes             NoteKind = "notes"
	NoteSevenChrNote      NoteKind = "sevenChrNote"
	// NoteSevenChrDef is one 7th character of a sevenChrDef (Char set), or
	// a note inside the definition (Char empty).
	NoteSevenChrDef NoteKind = "sevenChrDef"
)

// noteElements are the XML elements whose <note> children are notes.
var noteElements = map[string]NoteKind{
	"inclusionTerm": NoteInclusionTerm, "includes": NoteIncludes, "excludes1": NoteExcludes1,
	"excludes2": NoteExcludes2, "codeFirst": NoteCodeFirst, "useAdditionalCode": NoteUseAdditionalCode,
	"codeAlso": NoteCodeAlso, "notes": NoteNotes, "sevenChrNote": NoteSevenChrNote,
}

// TabularNote is one note of a Tabular List node: one <note> (or one
// sevenChrDef <extension>) of the XML.
type TabularNote struct {
	Kind NoteKind `json:"kind"`
	Text string   `json:"text"`
	// Char is the 7th character a sevenChrDef extension defines; "" on
	// every other note.
	Char string `json:"char,omitempty"`
}

// TabularNode is one chapter, section or <diag> (category, subcategory or
// code) of the Tabular List with its own notes.
type TabularNode struct {
	// ID numbers the nodes in document order from 1; Parent is the ID of
	// the enclosing node, 0 for a chapter.
	ID, Parent int
	Kind       NodeKind
	// Name is the chapter number ("4"), the section id ("E08-E13") or the
	// code in storage form ("E119").
	Name string
	Desc string
	// Leaf is true for a <diag> without subdivisions: a complete code, or
	// the code before its 7th character when a sevenChrDef applies.
	Leaf  bool
	Notes []TabularNote
}

// Ref names the node.
func (n TabularNode) Ref() TabularRef { return TabularRef{Kind: n.Kind, Name: n.Name} }

// TabularRef names a node of the Tabular List.
type TabularRef struct {
	Kind NodeKind `json:"kind"`
	Name string   `json:"name"`
}

// String returns "chapter 4", "section E08-E13" or the code in display
// form ("E11.9").
func (r TabularRef) String() string {
	switch r.Kind {
	case NodeChapter:
		return "chapter " + r.Name
	case NodeSection:
		return "section " + r.Name
	}
	return Display(ICD10CM, r.Name)
}

// ReadTabular reads the ICD-10-CM Tabular List XML (icd10cm_tabular_YYYY.xml,
// schema icd10cm_tabular.xsd) from r with a streaming decoder and calls fn
// for each chapter, section and <diag> once its element ends (children
// before their parent), with the node's own notes. Memory is bounded by
// the nesting depth, not the file (the full list is about 10 MB).
//
// The root must be <ICD10CM.tabular>; an addenda file (isAddenda="true")
// is refused, as are a <diag> without <name>, a section without id, a code
// named twice, an element the schema does not allow where it stands, and
// a 7th character that is not one letter or digit, and a <diag> whose code
// does not extend the code of the <diag> it is in (T52.9 under S52).
// <version> is read but not checked (ReadTabularFor checks it); <title>,
// <introduction>, <sectionIndex>, <visualImpairment> and <deactivated>
// carry no instruction for a code and are skipped. Empty notes (the
// published files have a few) are dropped. Errors name the line.
func ReadTabular(r io.Reader, fn func(TabularNode) error) error {
	return readTabular(r, 0, fn)
}

// ReadTabularFor is ReadTabular for the release rel: it also refuses a
// file whose <version> (the fiscal year, "2027") is not rel's fiscal year
// (the year of its Version "FY2027", or of its end), before fn is called
// for any node when <version> comes first as the schema places it, and a
// <version> that names no year. A file without <version> (the schema makes
// it optional) is read as rel's.
func ReadTabularFor(r io.Reader, rel Release, fn func(TabularNode) error) error {
	return readTabular(r, releaseFY(rel), fn)
}

// releaseFY is the fiscal year of a release: the year of "FY2027", else
// the year its window ends (fiscalYear).
func releaseFY(rel Release) int {
	if m := fyVersion.FindStringSubmatch(rel.Version); m != nil {
		y, _ := strconv.Atoi(m[1])
		return y
	}
	return fiscalYear(rel)
}

var (
	fyVersion   = regexp.MustCompile(`^(?i:FY)?([0-9]{4})$`)
	versionYear = regexp.MustCompile(`\b((?:19|20)[0-9]{2})\b`)
)

func readTabular(r io.Reader, wantFY int, fn func(TabularNode) error) error {
	t := &tabularReader{d: xml.NewDecoder(r), fn: fn, seen: map[string]bool{}, wantFY: wantFY}
	if err := t.read(); err != nil {
		if errors.Is(err, errFromFn) {
			return errors.Unwrap(err)
		}
		line, _ := t.d.InputPos()
		return fmt.Errorf("codes: Tabular List XML line %d: %w", line, err)
	}
	return nil
}

type tabularReader struct {
	d    *xml.Decoder
	fn   func(TabularNode) error
	id   int
	seen map[string]bool
	// wantFY is the fiscal year <version> must name; 0 for no check.
	wantFY int
}

// errFromFn marks an error returned by the caller's fn, passed on as is.
var errFromFn = errors.New("fn")

type fnError struct{ err error }

func (e fnError) Error() string        { return e.err.Error() }
func (e fnError) Unwrap() error        { return e.err }
func (e fnError) Is(target error) bool { return target == errFromFn }

func (t *tabularReader) read() error {
	root, err := t.firstElement()
	if err != nil {
		return err
	}
	if root.Name.Local != "ICD10CM.tabular" {
		return fmt.Errorf("root element <%s>: not the ICD-10-CM Tabular List (want <ICD10CM.tabular>)", root.Name.Local)
	}
	if attr(root, "isAddenda") == "true" {
		return fmt.Errorf(`an addenda file (isAddenda="true"): load the full Tabular List`)
	}
	chapters := 0
	err = t.children(root, func(se xml.StartElement) error {
		switch se.Name.Local {
		case "chapter":
			chapters++
			return t.node(0, "", NodeChapter, se)
		case "version":
			return t.version(se)
		case "title", "introduction":
			return t.d.Skip()
		}
		return fmt.Errorf("unexpected <%s> in <%s>", se.Name.Local, root.Name.Local)
	})
	if err == nil && chapters == 0 {
		err = fmt.Errorf("no <chapter> in the file")
	}
	return err
}

// version checks <version> against the release's fiscal year.
func (t *tabularReader) version(se xml.StartElement) error {
	v, err := t.text(se)
	if err != nil || t.wantFY == 0 {
		return err
	}
	m := versionYear.FindStringSubmatch(v)
	if m == nil {
		return fmt.Errorf("<version> %q names no fiscal year", v)
	}
	if y, _ := strconv.Atoi(m[1]); y != t.wantFY {
		return fmt.Errorf("<version> %q: this is the FY%d Tabular List, not FY%d's: load it as FY%d or load the FY%d file",
			v, y, t.wantFY, y, t.wantFY)
	}
	return nil
}

// firstElement returns the root element.
func (t *tabularReader) firstElement() (xml.StartElement, error) {
	for {
		tok, err := t.d.Token()
		if err == io.EOF {
			return xml.StartElement{}, fmt.Errorf("no XML element: an empty file, or not XML")
		}
		if err != nil {
			return xml.StartElement{}, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se, nil
		}
	}
}

// children calls fn for each child element of parent until parent ends;
// fn consumes the child's content.
func (t *tabularReader) children(parent xml.StartElement, fn func(xml.StartElement) error) error {
	for {
		tok, err := t.d.Token()
		if err == io.EOF {
			return fmt.Errorf("the file ends inside <%s>", parent.Name.Local)
		}
		if err != nil {
			return err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if err := fn(tok); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// node reads one chapter, section or diag and its descendants; within is
// the code of the <diag> it is in, "" for none.
func (t *tabularReader) node(parent int, within string, kind NodeKind, se xml.StartElement) error {
	t.id++
	n := TabularNode{ID: t.id, Parent: parent, Kind: kind, Leaf: kind == NodeDiag}
	if kind == NodeSection {
		n.Name = strings.TrimSpace(attr(se, "id"))
	}
	err := t.children(se, func(c xml.StartElement) error {
		name := c.Name.Local
		switch {
		case name == "name" && kind != NodeSection:
			v, err := t.text(c)
			n.Name = v
			return err
		case name == "desc":
			v, err := t.text(c)
			n.Desc = v
			return err
		case name == "section" && kind == NodeChapter:
			return t.node(n.ID, "", NodeSection, c)
		case name == "diag" && kind != NodeChapter:
			n.Leaf = false
			code := ""
			if kind == NodeDiag {
				code = n.Name
			}
			return t.node(n.ID, code, NodeDiag, c)
		case name == "sevenChrDef":
			return t.sevenChrDef(&n, c)
		case noteElements[name] != "":
			return t.notes(&n, noteElements[name], c)
		case name == "sectionIndex" && kind == NodeChapter, name == "visualImpairment" && kind == NodeDiag,
			name == "deactivated" && kind == NodeSection:
			return t.d.Skip()
		}
		return fmt.Errorf("unexpected <%s> in <%s>", name, se.Name.Local)
	})
	if err != nil {
		return err
	}
	return t.finish(n, within)
}

// finish checks a node once its element ended and hands it to fn.
func (t *tabularReader) finish(n TabularNode, within string) error {
	switch n.Kind {
	case NodeChapter:
		if n.Name == "" {
			return fmt.Errorf("a <chapter> without <name>")
		}
	case NodeSection:
		if n.Name == "" {
			return fmt.Errorf("a <section> without id (%q)", n.Desc)
		}
	case NodeDiag:
		n.Name = Normalize(ICD10CM, n.Name)
		if n.Name == "" {
			return fmt.Errorf("a <diag> without <name> (%q)", n.Desc)
		}
		if t.seen[n.Name] {
			return fmt.Errorf("code %s is named by two <diag> elements", Display(ICD10CM, n.Name))
		}
		if p := Normalize(ICD10CM, within); p != "" && !strings.HasPrefix(n.Name, p) {
			return fmt.Errorf("code %s is inside <diag> %s but does not extend it: a misplaced <diag>",
				Display(ICD10CM, n.Name), Display(ICD10CM, p))
		}
		t.seen[n.Name] = true
	}
	if err := t.fn(n); err != nil {
		return fnError{err}
	}
	return nil
}

// notes reads the <note> children of a noteType element.
func (t *tabularReader) notes(n *TabularNode, kind NoteKind, se xml.StartElement) error {
	return t.children(se, func(c xml.StartElement) error {
		if c.Name.Local != "note" {
			return fmt.Errorf("unexpected <%s> in <%s>", c.Name.Local, se.Name.Local)
		}
		v, err := t.text(c)
		if err == nil && v != "" {
			n.Notes = append(n.Notes, TabularNote{Kind: kind, Text: v})
		}
		return err
	})
}

// sevenChrDef reads the 7th characters (<extension char="A">) and notes
// of a sevenChrDef.
func (t *tabularReader) sevenChrDef(n *TabularNode, se xml.StartElement) error {
	return t.children(se, func(c xml.StartElement) error {
		switch c.Name.Local {
		case "extension":
			ch := strings.ToUpper(strings.TrimSpace(attr(c, "char")))
			if len(ch) != 1 || !alnum(ch[0]) {
				return fmt.Errorf("sevenChrDef of %s: 7th character %q is not one letter or digit", n.Name, attr(c, "char"))
			}
			v, err := t.text(c)
			n.Notes = append(n.Notes, TabularNote{Kind: NoteSevenChrDef, Char: ch, Text: v})
			return err
		case "note":
			v, err := t.text(c)
			if err == nil && v != "" {
				n.Notes = append(n.Notes, TabularNote{Kind: NoteSevenChrDef, Text: v})
			}
			return err
		}
		return fmt.Errorf("unexpected <%s> in <sevenChrDef>", c.Name.Local)
	})
}

// text returns the character data of se and of the elements inside it
// (the <new>, <old>, <unc> and <diff> marks of contentType), with runs of
// white space collapsed to one blank.
func (t *tabularReader) text(se xml.StartElement) (string, error) {
	var b strings.Builder
	depth := 0
	for {
		tok, err := t.d.Token()
		if err == io.EOF {
			return "", fmt.Errorf("the file ends inside <%s>", se.Name.Local)
		}
		if err != nil {
			return "", err
		}
		switch tok := tok.(type) {
		case xml.CharData:
			b.Write(tok)
		case xml.StartElement:
			depth++
			b.WriteByte(' ')
		case xml.EndElement:
			if depth == 0 {
				return strings.Join(strings.Fields(b.String()), " "), nil
			}
			depth--
			b.WriteByte(' ')
		}
	}
}

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
