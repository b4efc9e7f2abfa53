package v2ingest

import (
	"bytes"
	"crypto/sha256"
)

// messageHash is the SHA-256 a message's key is recorded with, telling a
// re-send (a plain AA) from another message under a re-used control id
// (AA with a warning; neither is applied). It is taken over the payload
// as sent, normalised for what a resend may change without changing the
// message: a leading UTF-8 BOM and blank lines before the MSH dropped,
// CRLF and LF segment separators made CR, trailing whitespace trimmed
// (another engine may re-frame lines), and MSH-7 (date/time of message)
// and MSH-13 (sequence number) blanked, with the MSH's trailing empty
// fields dropped (an interface engine regenerates both on a resend). Any
// other difference makes it another message.
func messageHash(payload []byte) []byte {
	p := bytes.TrimPrefix(payload, []byte("\xef\xbb\xbf"))
	p = bytes.ReplaceAll(p, []byte("\r\n"), []byte("\r"))
	p = bytes.ReplaceAll(p, []byte("\n"), []byte("\r"))
	p = bytes.TrimRight(bytes.TrimLeft(p, "\r"), " \t\r")
	msh, rest := p, []byte(nil)
	if i := bytes.IndexByte(p, '\r'); i >= 0 {
		msh, rest = p[:i], p[i:]
	}
	sum := sha256.New()
	sum.Write(blankMSHFields(msh, 7, 13))
	sum.Write(rest)
	return sum.Sum(nil)
}

// blankMSHFields returns the MSH segment line with fields ns (MSH-n
// numbering, n ≥ 3) emptied and trailing empty fields dropped; a line
// that is not an MSH is returned as is. The field separator is MSH-1,
// the byte after "MSH".
func blankMSHFields(line []byte, ns ...int) []byte {
	if len(line) < 4 || !bytes.HasPrefix(line, []byte("MSH")) {
		return line
	}
	sep := line[3:4]
	fields := bytes.Split(line, sep) // fields[0] "MSH", fields[n-1] MSH-n
	for _, n := range ns {
		if n >= 3 && n-1 < len(fields) {
			fields[n-1] = nil
		}
	}
	for len(fields) > 2 && len(fields[len(fields)-1]) == 0 {
		fields = fields[:len(fields)-1]
	}
	return bytes.Join(fields, sep)
}
