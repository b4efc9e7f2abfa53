package codes

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Action is the kind of change an addenda record makes.
type Action string

// The addenda actions. A revision is published as a ReviseFrom record (old
// titles) followed by a ReviseTo record (new titles) for the same code.
const (
	Add        Action = "add"
	Delete     Action = "delete"
	ReviseFrom Action = "revise-from"
	ReviseTo   Action = "revise-to"
)

// Change is one record of an order-file addenda: a code added, deleted or
// retitled between the previous fiscal year and this one.
type Change struct {
	Action Action
	// HasFlag is true when the record carries a header/billable flag; the
	// ICD-10-CM addenda do, the ICD-10-PCS addenda do not.
	HasFlag  bool
	Billable bool
	Code     string
	Short    string
	Long     string
}

var addendaPrefixes = []struct {
	prefix string
	action Action
}{
	{"Add:", Add}, {"Delete:", Delete}, {"Revise from:", ReviseFrom}, {"Revise to:", ReviseTo},
}

// ReadAddenda reads a CMS order-file addenda (icd10cm_order_addenda_YYYY.txt
// or the ICD-10-PCS order_addenda_YYYY.txt) and calls fn for each change.
// The action label fills columns 1-13; ICD-10-CM then has the flag in column
// 14 and the code from column 16, ICD-10-PCS the code from column 14; the
// code field is 7 wide and is followed by the 60-wide short title and the
// long title, one blank apart. The summary counts at the end are skipped.
func ReadAddenda(r io.Reader, fn func(Change) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		line := string(bytes.TrimRight(sc.Bytes(), "\r"))
		action, ok := addendaAction(line)
		if !ok {
			continue
		}
		ch, err := parseChange(action, line)
		if err != nil {
			return fmt.Errorf("codes: addenda line %d: %w", n, err)
		}
		if err := fn(ch); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("codes: addenda line %d: %w", n+1, err)
	}
	return nil
}

func addendaAction(line string) (Action, bool) {
	for _, p := range addendaPrefixes {
		if strings.HasPrefix(line, p.prefix) {
			return p.action, true
		}
	}
	return "", false
}

func parseChange(action Action, line string) (Change, error) {
	if len(line) < 15 {
		return Change{}, fmt.Errorf("too short")
	}
	rest := line[13:]
	ch := Change{Action: action}
	if (rest[0] == '0' || rest[0] == '1') && rest[1] == ' ' {
		ch.HasFlag, ch.Billable = true, rest[0] == '1'
		rest = rest[2:]
	}
	if len(rest) < 8 {
		return Change{}, fmt.Errorf("too short")
	}
	ch.Code = strings.TrimRight(rest[:7], " ")
	rest = rest[8:]
	ch.Short = strings.TrimRight(rest[:min(60, len(rest))], " ")
	if len(rest) > 61 {
		ch.Long = strings.TrimRight(rest[61:], " ")
	}
	if ch.Code == "" || strings.Contains(ch.Code, " ") {
		return Change{}, fmt.Errorf("bad code field %q", ch.Code)
	}
	return ch, nil
}
