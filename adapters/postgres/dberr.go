package postgres

import (
	"database/sql/driver"
	"errors"
	"net"
	"strings"

	"github.com/lib/pq"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// classify gives a database failure its kind, so callers can tell a fault
// worth retrying from data the database will never take. Errors that
// already carry a kind pass through.
//   - Transient: the connection is gone (driver.ErrBadConn, network errors,
//     SQLSTATE class 08), the server is short of resources (53) or shutting
//     down (57P), or the transaction lost a serialization or deadlock race
//     (40001, 40P01): retrying can succeed.
//   - Unprocessable: the data itself is refused: a data exception (class 22,
//     e.g. a NUL byte or an out-of-range value), an integrity violation (23)
//     or a program limit (54, e.g. a value too large for an index): sending
//     it again fails again. The message names the condition, never the data.
//
// Anything else stays as it is (Internal at the edge).
func classify(err error) error {
	if err == nil {
		return nil
	}
	var de *workitem.Error
	if errors.As(err, &de) {
		return err
	}
	var ne net.Error
	if errors.Is(err, driver.ErrBadConn) || errors.As(err, &ne) {
		return &workitem.Error{Kind: workitem.Transient, Message: "database unavailable", Err: err}
	}
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return err
	}
	code := string(pe.Code)
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "57P"),
		code == "40001", code == "40P01":
		return &workitem.Error{Kind: workitem.Transient, Message: "database unavailable (" + pe.Code.Name() + ")", Err: err}
	case strings.HasPrefix(code, "22"), strings.HasPrefix(code, "23"), strings.HasPrefix(code, "54"):
		return &workitem.Error{Kind: workitem.Unprocessable, Message: "the database refused the data (" + pe.Code.Name() + ")",
			Issues: []workitem.Issue{{Severity: "error", Code: "processing", Diagnostics: "the database refused the data: " + pe.Code.Name()}}}
	}
	return err
}
