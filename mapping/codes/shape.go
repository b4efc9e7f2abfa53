package codes

import (
	"errors"
	"fmt"
)

// ErrNoRecords is wrapped by the error of a load that found no record of
// its system in the file (an empty file, or a file of another system whose
// rows the reader skipped).
var ErrNoRecords = errors.New("no records")

// ErrWrongShape is wrapped by the error of a load in which most codes do
// not have the shape of the system's codes (a file of another system).
var ErrWrongShape = errors.New("codes do not have the shape of the system")

// ICD10CMFormat reports whether code (storage form, no dot) has the shape
// of an ICD-10-CM code or category: 3 to 7 letters or digits, a letter
// first. ICD-10-CM never starts with a digit.
func ICD10CMFormat(code string) bool {
	if len(code) < 3 || len(code) > 7 || code[0] < 'A' || code[0] > 'Z' {
		return false
	}
	for i := 1; i < len(code); i++ {
		if !alnum(code[i]) {
			return false
		}
	}
	return true
}

// ICD10PCSFormat reports whether code has the shape of an ICD-10-PCS code:
// exactly seven letters or digits, never I or O, the first (the section)
// one of 0-9, B, C, D, F, G, H or X. With header true it also accepts the
// 3-character table headers of the order file.
func ICD10PCSFormat(code string, header bool) bool {
	if len(code) != 7 && !(header && len(code) >= 3 && len(code) < 7) {
		return false
	}
	switch c := code[0]; {
	case c >= '0' && c <= '9', c == 'B', c == 'C', c == 'D', c == 'F', c == 'G', c == 'H', c == 'X':
	default:
		return false
	}
	for i := 1; i < len(code); i++ {
		if !alnum(code[i]) || code[i] == 'I' || code[i] == 'O' {
			return false
		}
	}
	return true
}

// Shaped reports whether code (storage form) has the shape of a code of
// system. header marks an ICD-10 order-file header (not billable).
func Shaped(system System, code string, header bool) bool {
	switch system {
	case ICD10CM, POAExemptList, ICD10CMTabular, MCE:
		return ICD10CMFormat(code)
	case ICD10PCS:
		return ICD10PCSFormat(code, header)
	case HCPCS:
		return HCPCSFormat(code)
	case HCPCSModifier:
		return ModifierFormat(code)
	case CPT:
		_, ok := CPTFormat(code)
		return ok
	case MUETable, PTPTable:
		return procedureCode(code)
	}
	return false
}

// ShapeCheck counts the records of one load and those whose code does not
// have the shape of its system, so that a file of another system (the
// ICD-10-PCS order file loaded as icd10cm, say) is refused. The zero value
// is ready to use.
type ShapeCheck struct {
	n, bad  int
	example string
}

// Add counts one record of system with code; header marks an ICD-10
// order-file header.
func (c *ShapeCheck) Add(system System, code string, header bool) {
	c.n++
	if !Shaped(system, code, header) {
		if c.bad == 0 {
			c.example = code
		}
		c.bad++
	}
}

// Count returns the number of records added.
func (c *ShapeCheck) Count() int { return c.n }

// Err returns an error wrapping ErrNoRecords when no record was added, or
// ErrWrongShape when most codes failed the shape check of system. source
// names the file in the message.
func (c *ShapeCheck) Err(system System, source string) error {
	if source == "" {
		source = "input"
	}
	switch {
	case c.n == 0:
		return fmt.Errorf("codes: %s: %w of %s found: empty file, or not a %s file (check --system)",
			source, ErrNoRecords, system, system)
	case 2*c.bad > c.n:
		return fmt.Errorf("codes: %s: %d of %d %w %s (e.g. %q): not a %s file (check --system)",
			source, c.bad, c.n, ErrWrongShape, system, c.example, system)
	}
	return nil
}
