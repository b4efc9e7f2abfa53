package codes

import (
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"
)

// HCPCSRecord is one HCPCS Level II code or Level II modifier from the CMS
// alpha-numeric (ANWEB) file.
type HCPCSRecord struct {
	// Code is the HCPCS code ("J1885") or, when Modifier is true, the
	// two-character modifier ("XU") with the file's left padding removed.
	Code     string
	Modifier bool
	Long     string
	Short    string
	// Added is ADD DT, the date the code entered HCPCS.
	Added time.Time
	// ActionEffective is ACT EFF DT, the date Action took effect.
	ActionEffective time.Time
	// Terminated is TERM DT, the last date the code is valid; zero if none.
	Terminated time.Time
	// Action is ACTION CD as published (A add, C change, D discontinue,
	// N no change, P payment change, R reactivate, S, B ...).
	Action string
}

// The RECID values of the ANWEB layout: 3 and 4 are the first and
// continuation lines of a procedure code, 7 and 8 those of a modifier.
const (
	recProcedure         = "3"
	recProcedureContinue = "4"
	recModifier          = "7"
	recModifierContinue  = "8"
)

// hcpcsColumns are the ANWEB columns the loader uses, found by header name.
type hcpcsColumns struct {
	code, recid, long, short, add, eff, term, action int
}

func newHCPCSColumns(row []string) (hcpcsColumns, error) {
	h := headerColumns(row)
	c := hcpcsColumns{
		code: h.find("HCPC"), recid: h.find("RECID"), long: h.find("LONG DESC"),
		short: h.find("SHORT DESC"), add: h.find("ADD DT"), eff: h.find("ACT EFF DT"),
		term: h.find("TERM DT"), action: h.find("ACTION CD"),
	}
	if c.code < 0 || c.recid < 0 || c.long < 0 {
		return c, fmt.Errorf("header lacks HCPC, RECID or LONG DESCRIPTION")
	}
	return c, nil
}

// hcpcsReader turns ANWEB rows into records, joining continuation rows to
// the record they continue before it is handed to fn.
type hcpcsReader struct {
	cols    hcpcsColumns
	header  bool
	pending *HCPCSRecord
	fn      func(HCPCSRecord) error
}

func (h *hcpcsReader) row(row []string) error {
	if !h.header {
		cols, err := newHCPCSColumns(row)
		h.cols, h.header = cols, err == nil
		return err
	}
	recid := field(row, h.cols.recid)
	switch recid {
	case recProcedureContinue, recModifierContinue:
		if h.pending != nil {
			h.pending.Long += " " + field(row, h.cols.long)
		}
		return nil
	case recProcedure, recModifier:
	default:
		return fmt.Errorf("unknown RECID %q", recid)
	}
	if err := h.flush(); err != nil {
		return err
	}
	rec, err := h.record(row, recid == recModifier)
	h.pending = &rec
	return err
}

func (h *hcpcsReader) record(row []string, modifier bool) (HCPCSRecord, error) {
	c := h.cols
	rec := HCPCSRecord{
		Code: Normalize(HCPCS, field(row, c.code)), Modifier: modifier,
		Long: field(row, c.long), Short: field(row, c.short), Action: field(row, c.action),
	}
	var err [3]error
	rec.Added, err[0] = parseYMD(field(row, c.add))
	rec.ActionEffective, err[1] = parseYMD(field(row, c.eff))
	rec.Terminated, err[2] = parseYMD(field(row, c.term))
	for _, e := range err {
		if e != nil {
			return rec, fmt.Errorf("code %s: %w", rec.Code, e)
		}
	}
	return rec, nil
}

func (h *hcpcsReader) flush() error {
	if h.pending == nil {
		return nil
	}
	rec := *h.pending
	h.pending = nil
	return h.fn(rec)
}

// ReadHCPCSCSV reads a CSV (or tab-separated) dump of the ANWEB sheet, with
// the CMS header row first, and calls fn for each code and modifier.
func ReadHCPCSCSV(r io.Reader, fn func(HCPCSRecord) error) error {
	h := &hcpcsReader{fn: fn}
	err := eachRow(newDelimited(r), func(line int, row []string) error {
		if err := h.row(row); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		return nil
	})
	if err == nil {
		err = h.flush()
	}
	if err != nil {
		return fmt.Errorf("codes: HCPCS file: %w", err)
	}
	return nil
}

// ReadHCPCSXLSX reads the CMS ANWEB workbook (HCPCyyyy_MMM_ANWEB.xlsx),
// first sheet, with excelize's streaming row iterator, and calls fn for
// each code and modifier.
func ReadHCPCSXLSX(r io.Reader, fn func(HCPCSRecord) error) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("codes: HCPCS workbook: %w", err)
		}
	}()
	f, err := excelize.OpenReader(r)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := f.Rows(f.GetSheetName(0))
	if err != nil {
		return err
	}
	defer rows.Close()
	h := &hcpcsReader{fn: fn}
	for n := 1; rows.Next(); n++ {
		row, err := rows.Columns()
		if err != nil {
			return fmt.Errorf("row %d: %w", n, err)
		}
		if len(row) == 0 {
			continue
		}
		if err := h.row(row); err != nil {
			return fmt.Errorf("row %d: %w", n, err)
		}
	}
	if err := rows.Error(); err != nil {
		return err
	}
	return h.flush()
}
