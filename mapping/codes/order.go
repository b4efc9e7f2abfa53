package codes

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// OrderRecord is one line of a CMS ICD-10-CM or ICD-10-PCS order file.
type OrderRecord struct {
	// Order is the tabular order number (columns 1-5).
	Order int
	// Code is the code without dots (columns 7-13).
	Code string
	// Billable is true for flag 1 (valid for HIPAA transactions) and false
	// for flag 0 (a header) in column 15.
	Billable bool
	// Short is the short title (columns 17-76), right blanks removed.
	Short string
	// Long is the long title (column 78 to end of line).
	Long string
}

// maxLine bounds one line of the CMS fixed-width files; the layout says an
// order-file line is never longer than 400 characters.
const maxLine = 64 << 10

// ReadOrder reads a CMS order file (ICD-10-CM or ICD-10-PCS, the layout of
// icd10OrderFiles.pdf) from r and calls fn for each record in file order.
// It stops at the first malformed line or the first error returned by fn.
// Line ends may be CRLF or LF; blank lines are skipped.
func ReadOrder(r io.Reader, fn func(OrderRecord) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 256<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		b := bytes.TrimRight(sc.Bytes(), "\r")
		if len(b) == 0 {
			continue
		}
		rec, err := parseOrderLine(b)
		if err != nil {
			return fmt.Errorf("codes: order file line %d: %w", n, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("codes: order file line %d: %w", n+1, err)
	}
	return nil
}

// parseOrderLine splits one fixed-width line. It converts the line to a
// string once and slices the fields from it, so a record costs one
// allocation.
func parseOrderLine(b []byte) (OrderRecord, error) {
	if len(b) < 17 || b[5] != ' ' || b[13] != ' ' || b[15] != ' ' {
		return OrderRecord{}, fmt.Errorf("not in order-file layout")
	}
	order := 0
	for _, c := range b[:5] {
		if c < '0' || c > '9' {
			return OrderRecord{}, fmt.Errorf("order number %q", b[:5])
		}
		order = order*10 + int(c-'0')
	}
	if b[14] != '0' && b[14] != '1' {
		return OrderRecord{}, fmt.Errorf("flag %q in column 15", b[14])
	}
	s := string(b)
	rec := OrderRecord{Order: order, Billable: s[14] == '1'}
	rec.Code = strings.TrimRight(s[6:13], " ")
	rec.Short = strings.TrimRight(s[16:min(76, len(s))], " ")
	if len(s) > 77 {
		rec.Long = strings.TrimRight(s[77:], " ")
	}
	if rec.Code == "" {
		return OrderRecord{}, fmt.Errorf("empty code")
	}
	return rec, nil
}
