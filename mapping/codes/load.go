package codes

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Load reads one release in its official format from r into the catalog
// and returns the number of records loaded. The format follows rel.System:
//
//	icd10cm, icd10pcs  CMS order file (ReadOrder)
//	poaexempt          POA-exempt list (ReadPOAExempt)
//	hcpcs              ANWEB .xlsx or its CSV dump (ReadHCPCSXLSX, ReadHCPCSCSV);
//	                   the Level II modifiers become a hcpcsmod release of the
//	                   same version and window
//	mue                CMS MUE table (ReadMUE) or the JSON extract (ReadMUEJSON),
//	                   which is recorded as partial (MUEPartialMarker)
//	ptp                CMS PTP table (ReadPTP)
//	cpt                user-supplied CPT list (ReadCPT)
//	icd10cm-tabular    ICD-10-CM Tabular List XML (ReadTabular)
//	mce                Medicare Code Editor lists: the CMS text file or the
//	                   JSON extraction (ReadMCE)
//
// Formats are told apart by content (a zip signature means .xlsx, a
// leading "{" means JSON). A release with the same system and version as a
// loaded one replaces it once fully read; on error nothing is installed.
// A file without any record of the system, or in which most codes do not
// have the shape of the system's codes (see ShapeCheck), is an error.
func (c *Catalog) Load(rel Release, r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	t := newTable(rel)
	var sc ShapeCheck
	var err error
	switch rel.System {
	case ICD10CM, ICD10PCS:
		err = ReadOrder(br, func(o OrderRecord) error {
			sc.Add(rel.System, o.Code, !o.Billable)
			t.entries[o.Code] = Entry{System: rel.System, Code: o.Code, Billable: o.Billable, Short: o.Short, Long: o.Long}
			return nil
		})
	case POAExemptList:
		err = ReadPOAExempt(br, func(p POAExempt) error { sc.Add(rel.System, p.Code, false); t.exempt[p.Code] = true; return nil })
	case HCPCS:
		return c.loadHCPCS(rel, br, bytes.HasPrefix(head, []byte("PK\x03\x04")))
	case MUETable:
		add := func(m MUE) error { sc.Add(rel.System, m.Code, false); t.mues[m.Code] = m; return nil }
		if bytes.HasPrefix(bytes.TrimSpace(head), []byte("{")) {
			err = ReadMUEJSON(br, add)
			t.mues[MUEPartialMarker] = MUE{Code: MUEPartialMarker}
		} else {
			err = ReadMUE(br, add)
		}
	case PTPTable:
		err = ReadPTP(br, func(p PTP) error {
			sc.Add(rel.System, p.Column1, false)
			k := [2]string{p.Column1, p.Column2}
			t.ptps[k] = append(t.ptps[k], p)
			return nil
		})
	case ICD10CMTabular:
		err = loadTabular(t, br, &sc)
	case CPT:
		err = ReadCPT(br, func(p CPTRecord) error {
			sc.Add(rel.System, p.Code, false)
			t.entries[p.Code] = Entry{System: CPT, Code: p.Code, Billable: true, Long: p.Description}
			return nil
		})
	case MCE:
		err = ReadMCE(br, rel.Version, func(m MCERecord) error { return t.addMCE(&sc, m) })
	default:
		err = fmt.Errorf("codes: cannot load system %q", rel.System)
	}
	if err == nil {
		err = sc.Err(rel.System, "")
	}
	if err != nil {
		return 0, err
	}
	c.add(t)
	return t.size(), nil
}

func (t *table) size() int {
	n := len(t.entries) + len(t.mues) + len(t.exempt) + len(t.ptps)
	if t.tabular != nil {
		n += len(t.tabular.nodes)
	}
	for _, ls := range t.mce {
		n += len(ls)
	}
	if _, ok := t.mues[MUEPartialMarker]; ok {
		n--
	}
	return n
}

// loadHCPCS loads codes into rel and modifiers into a hcpcsmod release
// with the same version and window.
func (c *Catalog) loadHCPCS(rel Release, r io.Reader, xlsx bool) (int, error) {
	modRel := rel
	modRel.System = HCPCSModifier
	codes, mods := newTable(rel), newTable(modRel)
	var sc ShapeCheck
	add := func(h HCPCSRecord) error {
		t, sys := codes, HCPCS
		if h.Modifier {
			t, sys = mods, HCPCSModifier
		}
		sc.Add(sys, h.Code, false)
		t.entries[h.Code] = Entry{System: sys, Code: h.Code, Billable: true, Short: h.Short, Long: h.Long,
			From: h.Added, To: h.Terminated, Action: h.Action}
		return nil
	}
	read := ReadHCPCSCSV
	if xlsx {
		read = ReadHCPCSXLSX
	}
	if err := read(r, add); err != nil {
		return 0, err
	}
	if err := sc.Err(HCPCS, ""); err != nil {
		return 0, err
	}
	c.add(codes)
	c.add(mods)
	return len(codes.entries) + len(mods.entries), nil
}
