package codes

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// newDelimited returns a csv.Reader for r that splits on tabs when the
// first 8 KiB contain a tab and on commas otherwise. Quotes are handled
// leniently and rows may have any number of fields, as CMS text extracts
// carry notice lines of their own shape above the header.
func newDelimited(r io.Reader) *csv.Reader {
	br := bufio.NewReaderSize(r, 8<<10)
	head, _ := br.Peek(8 << 10)
	cr := csv.NewReader(br)
	if bytes.IndexByte(head, '\t') >= 0 {
		cr.Comma = '\t'
	}
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return cr
}

// eachRow calls fn for each row of cr with its 1-based line number.
func eachRow(cr *csv.Reader, fn func(line int, row []string) error) error {
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		if err := fn(line, row); err != nil {
			return err
		}
	}
}

// columns maps upper-cased, blank-squeezed header names to their index.
type columns map[string]int

func headerColumns(row []string) columns {
	c := columns{}
	for i, h := range row {
		c[squeeze(h)] = i
	}
	return c
}

// name is the (squeezed) name of column i, or "".
func (c columns) name(i int) string {
	for n, j := range c {
		if j == i {
			return n
		}
	}
	return ""
}

// find returns the index of the first column whose name starts with one of
// the prefixes, or -1.
func (c columns) find(prefixes ...string) int {
	for _, p := range prefixes {
		best := -1
		for name, i := range c {
			if strings.HasPrefix(name, p) && (best < 0 || i < best) {
				best = i
			}
		}
		if best >= 0 {
			return best
		}
	}
	return -1
}

func squeeze(s string) string {
	return strings.Join(strings.Fields(strings.ToUpper(s)), " ")
}

// field returns row[i] trimmed, or "" when i is out of range.
func field(row []string, i int) string {
	if i < 0 || i >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[i])
}

// parseYMD parses a CMS YYYYMMDD date; "", "*" and all-zero dates are the
// zero time.
func parseYMD(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "*" || strings.Trim(s, "0") == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("20060102", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: want YYYYMMDD", s)
	}
	return t, nil
}
