package codes

import (
	"fmt"
	"io"
	"strings"
)

// POAExempt is one row of the CDC/CMS list of ICD-10-CM codes exempt from
// present-on-admission reporting (POAexemptCodesFYyy.txt).
type POAExempt struct {
	// Order is the FY order number ("Order26"), kept as text with its
	// leading zeros.
	Order string
	// Code is the exempt ICD-10-CM code in storage form (no dot).
	Code string
	// Title is the long title.
	Title string
}

// ReadPOAExempt reads the tab-separated POA-exempt list described in
// ReadMePOAexemptFYyy.txt (columns OrderYY, POAexemptCode, Description, a
// header row first) and calls fn for each code. Columns are found by
// header name, so the add list (same columns) reads too.
func ReadPOAExempt(r io.Reader, fn func(POAExempt) error) error {
	cr := newDelimited(r)
	code, order, title := -1, -1, -1
	err := eachRow(cr, func(line int, row []string) error {
		if code < 0 {
			h := headerColumns(row)
			code, order, title = h.find("POAEXEMPTCODE"), h.find("ORDER"), h.find("DESCRIPTION")
			if code < 0 {
				return fmt.Errorf("line %d: no POAexemptCode column", line)
			}
			return nil
		}
		c := Normalize(ICD10CM, field(row, code))
		if c == "" {
			return nil
		}
		return fn(POAExempt{Order: field(row, order), Code: strings.Clone(c), Title: strings.Clone(field(row, title))})
	})
	if err != nil {
		return fmt.Errorf("codes: POA-exempt list: %w", err)
	}
	return nil
}
