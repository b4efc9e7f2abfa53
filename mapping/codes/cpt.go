package codes

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// CPTRecord is one code of a user-supplied CPT file.
type CPTRecord struct {
	Code        string
	Category    CPTCategory
	Description string
}

// ReadCPT reads a user-supplied CPT list and calls fn for each code.
// codebridge never ships CPT content (descriptors are AMA copyright); users
// who hold a licence load their own file. Accepted formats, one code a
// line:
//
//	99213<TAB>Office or other outpatient visit ...
//	99213,"Office or other outpatient visit ..."
//	99213
//
// Blank lines and lines starting with # are skipped. If the first other
// line does not start with a CPT-format code it is taken as a header.
// Any later line whose code fails CPTFormat is an error.
func ReadCPT(r io.Reader, fn func(CPTRecord) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n, seen := 0, false
	for sc.Scan() {
		n++
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if line == "" || line[0] == '#' {
			continue
		}
		code, desc := splitCPTLine(line)
		cat, ok := CPTFormat(code)
		if !ok && !seen {
			seen = true
			continue
		}
		seen = true
		if !ok {
			return fmt.Errorf("codes: CPT file line %d: %q is not a CPT code", n, code)
		}
		if err := fn(CPTRecord{Code: code, Category: cat, Description: desc}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("codes: CPT file line %d: %w", n+1, err)
	}
	return nil
}

func splitCPTLine(line string) (code, desc string) {
	i := strings.IndexAny(line, "\t,")
	if i < 0 {
		return strings.ToUpper(strings.Trim(line, `" `)), ""
	}
	code = strings.ToUpper(strings.Trim(line[:i], `" `))
	desc = strings.TrimSpace(line[i+1:])
	if len(desc) >= 2 && desc[0] == '"' && desc[len(desc)-1] == '"' {
		desc = strings.ReplaceAll(desc[1:len(desc)-1], `""`, `"`)
	}
	return code, desc
}
