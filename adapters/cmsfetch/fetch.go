package cmsfetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is wrapped by the error of a download the server answered
// with 404 Not Found at every address tried.
var ErrNotFound = errors.New("not found")

// Fetcher downloads official files into Dir.
type Fetcher struct {
	// Client makes the requests; nil means NewClient().
	Client *http.Client
	// Dir holds the downloads (created if missing).
	Dir string
	// UserAgent is sent with every request.
	UserAgent string
	// Log receives one line when a download starts and one when it ends;
	// nil discards them.
	Log io.Writer
	// Progress, when set, is called as a download starts with the file
	// name, its total size (-1 when unknown) and the bytes already kept
	// from an earlier attempt; the body is copied through the writer it
	// returns (a progress bar), and done is called when the copy ends.
	Progress func(name string, total, have int64) (w io.Writer, done func())
	// Timeout bounds each download (connection, headers and body); 0
	// means none beyond the caller's context.
	Timeout time.Duration
}

// NewClient returns an HTTP client with connection and header timeouts
// (the body is bounded by Fetcher.Timeout and the caller's context).
func NewClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 30 * time.Second
	tr.ResponseHeaderTimeout = time.Minute
	return &http.Client{Transport: tr}
}

// Result is what Fetch did.
type Result struct {
	// Path is the verified zip, Dir/Name.
	Path string
	// URL is the address it came from ("" when a verified copy in Dir was
	// used without downloading).
	URL string
	// Resumed is the number of bytes kept from an earlier attempt.
	Resumed int64
	Check   Check
}

// Fetch downloads f (from url when not "", else from f.URL and then its
// alternates on 404) to Dir/f.Name.part, verifies it (Verify) and renames
// it to Dir/f.Name. A copy already in Dir is used as it is when the table
// pins its digest (of the zip or its member) and it still verifies;
// without a digest it is downloaded again (CMS re-posts corrected files
// under the same name).
//
// A download that did not complete (the connection dropped mid-body, a
// server error, ctx cancelled or Timeout passed) keeps its .part, and the
// validator of the response it came from (ETag, else Last-Modified) in
// Dir/f.Name.part.meta; the next run asks for the rest with Range and
// If-Range, so a file the publisher replaced in between is downloaded
// anew rather than appended to the old prefix. A complete download that
// fails verification (size, digest, structure) is deleted and the error
// wraps ErrMismatch; on a 404 at every address the error wraps
// ErrNotFound and nothing is kept. A zip whose member is ambiguous
// (ErrAmbiguous) is complete and may be the official one: it is kept as
// Dir/f.Name for the operator to extract the member from.
func (fe *Fetcher) Fetch(ctx context.Context, f File, url string) (Result, error) {
	if err := os.MkdirAll(fe.Dir, 0o755); err != nil {
		return Result{}, fmt.Errorf("cmsfetch: download directory: %w", err)
	}
	final := filepath.Join(fe.Dir, f.Name)
	if f.Pinned() {
		if c, err := Verify(final, f); err == nil {
			return Result{Path: final, Check: c}, nil
		}
	}
	// A copy already in Dir stays until a new download has verified: the
	// rename below replaces it atomically, so a failed fetch loses nothing.
	urls := append([]string{f.URL}, f.Alternates...)
	if url != "" {
		urls = []string{url}
	}
	part := final + ".part"
	var res Result
	var err error
	for i, u := range urls {
		res, err = fe.download(ctx, u, part, f)
		if !errors.Is(err, ErrNotFound) || i == len(urls)-1 {
			break
		}
		fe.logf("%s: 404 Not Found at %s; trying %s\n", f.Name, u, urls[i+1])
	}
	if err != nil {
		if errors.Is(err, ErrMismatch) || errors.Is(err, ErrNotFound) {
			removePart(part)
		}
		if have := partSize(part); have > 0 {
			what := "incomplete"
			if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
				what = "interrupted"
			}
			return res, fmt.Errorf("cmsfetch: %s %s; %d bytes kept in %s, run again to resume: %w", f.Name, what, have, part, err)
		}
		removePart(part)
		if errors.Is(err, ErrNotFound) {
			return res, fmt.Errorf("cmsfetch: %w; CMS may have renamed the file: give its address with --url %s=URL, or download it yourself and use --file", err, f.Release.System)
		}
		return res, fmt.Errorf("cmsfetch: %w; nothing kept", err)
	}
	res.Check, err = Verify(part, f)
	if errors.Is(err, ErrAmbiguous) {
		if rerr := os.Rename(part, final); rerr == nil {
			os.Remove(metaPath(part))
			return res, fmt.Errorf("cmsfetch: %s from %s kept as %s, not loaded: %w", f.Name, res.URL, final, err)
		}
	}
	if err != nil {
		removePart(part)
		return res, fmt.Errorf("cmsfetch: %s from %s refused, nothing kept: %w", f.Name, res.URL, err)
	}
	if err := os.Rename(part, final); err != nil {
		removePart(part)
		return res, fmt.Errorf("cmsfetch: %w", err)
	}
	os.Remove(metaPath(part))
	res.Path = final
	return res, nil
}

// download fetches url into part, resuming what part holds when its meta
// file names a validator and the server honours Range and If-Range with
// it, and starting from nothing otherwise.
func (fe *Fetcher) download(ctx context.Context, url, part string, f File) (Result, error) {
	res := Result{URL: url}
	if fe.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, fe.Timeout)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		have := partSize(part)
		v := readMeta(part)
		if have > 0 && (v.ifRange() == "" || (f.Size > 0 && have > f.Size)) {
			// Nothing tells that the server still has the file these
			// bytes came from: start again.
			removePart(part)
			have = 0
		}
		if f.Size > 0 && have == f.Size {
			res.Resumed = have // complete already (stopped before the rename)
			return res, nil
		}
		ifRange := ""
		if have > 0 {
			ifRange = v.ifRange()
		}
		resp, err := fe.get(ctx, url, have, ifRange)
		if err != nil {
			return res, err
		}
		start, restart, err := rangeStart(resp, have)
		if err == nil && start > 0 && v.ETag != "" && resp.Header.Get("ETag") != "" && resp.Header.Get("ETag") != v.ETag {
			// A server that ignored If-Range: the rest is of another file.
			restart, err = true, fmt.Errorf("GET %s: 206 for ETag %s, the kept bytes are of ETag %s", url, resp.Header.Get("ETag"), v.ETag)
		}
		if restart && attempt == 0 {
			resp.Body.Close()
			removePart(part)
			continue
		}
		if err != nil {
			resp.Body.Close()
			return res, err
		}
		if have > 0 && start == 0 {
			fe.logf("%s answered with the whole file (it changed since the %d bytes kept were downloaded, or the server does not resume); downloading it from byte 0\n", url, have)
		}
		res.Resumed = start
		err = fe.copyBody(resp, part, start, f)
		resp.Body.Close()
		return res, err
	}
}

// validators are what the response a .part came from said of the file,
// kept in NAME.part.meta for If-Range on resume.
type validators struct {
	URL          string `json:"url"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
}

// ifRange is the If-Range value: the ETag when strong (RFC 9110 §13.1.5
// allows no weak one), else the Last-Modified date; "" for none.
func (v validators) ifRange() string {
	if v.ETag != "" && !strings.HasPrefix(v.ETag, "W/") {
		return v.ETag
	}
	return v.LastModified
}

func metaPath(part string) string { return part + ".meta" }

func readMeta(part string) validators {
	var v validators
	if b, err := os.ReadFile(metaPath(part)); err == nil {
		_ = json.Unmarshal(b, &v) // an unreadable meta is no validator: restart
	}
	return v
}

func writeMeta(part string, v validators) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(metaPath(part), b, 0o644)
}

// removePart deletes part and its meta file.
func removePart(part string) {
	os.Remove(part)
	os.Remove(metaPath(part))
}

func partSize(part string) int64 {
	st, err := os.Stat(part)
	if err != nil {
		return 0
	}
	return st.Size()
}

// get sends the GET, with Range and If-Range headers when have > 0.
func (fe *Fetcher) get(ctx context.Context, url string, have int64, ifRange string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if fe.UserAgent != "" {
		req.Header.Set("User-Agent", fe.UserAgent)
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
		req.Header.Set("If-Range", ifRange)
	}
	client := fe.Client
	if client == nil {
		client = NewClient()
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	return resp, nil
}

// rangeStart returns the offset at which the body of resp starts: have for
// a 206 resuming at have, 0 for a 200 (the whole file: no Range support,
// or If-Range found the file changed). restart is true when part must be
// discarded and the request sent again without a Range (a 416, or a 206
// for other bytes).
func rangeStart(resp *http.Response, have int64) (start int64, restart bool, err error) {
	switch resp.StatusCode {
	case http.StatusOK:
		return 0, false, nil
	case http.StatusPartialContent:
		if have > 0 && contentRangeStart(resp.Header.Get("Content-Range")) == have {
			return have, false, nil
		}
		return 0, true, fmt.Errorf("GET %s: 206 with Content-Range %q for a request from byte %d", resp.Request.URL, resp.Header.Get("Content-Range"), have)
	case http.StatusRequestedRangeNotSatisfiable:
		return 0, have > 0, fmt.Errorf("GET %s: %s", resp.Request.URL, resp.Status)
	case http.StatusNotFound:
		return 0, false, fmt.Errorf("GET %s: %s: %w", resp.Request.URL, resp.Status, ErrNotFound)
	}
	msg := fmt.Sprintf("GET %s: %s", resp.Request.URL, resp.Status)
	if resp.StatusCode >= 500 {
		msg += " (the server failed; try again later)"
	}
	return 0, false, errors.New(msg)
}

// contentRangeStart parses "bytes START-END/TOTAL"; -1 if malformed.
func contentRangeStart(v string) int64 {
	v, ok := strings.CutPrefix(v, "bytes ")
	if !ok {
		return -1
	}
	s, _, ok := strings.Cut(v, "-")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// copyBody appends (start > 0) or writes the body to part, refusing a body
// announced or found larger than the official size, and one cut short of
// its Content-Length.
func (fe *Fetcher) copyBody(resp *http.Response, part string, start int64, f File) error {
	url := resp.Request.URL.String()
	total := int64(-1)
	if resp.ContentLength >= 0 {
		total = start + resp.ContentLength
	}
	if f.Size > 0 && total >= 0 && total != f.Size {
		return fmt.Errorf("GET %s: the server announces %d bytes, the official file has %d: %w", url, total, f.Size, ErrMismatch)
	}
	if total < 0 && f.Size > 0 {
		total = f.Size
	}
	flag := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if start > 0 {
		flag = os.O_WRONLY | os.O_APPEND
	}
	if start == 0 {
		v := validators{URL: url, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
		if err := writeMeta(part, v); err != nil {
			return err
		}
	}
	out, err := os.OpenFile(part, flag, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	if start > 0 {
		fe.logf("downloading %s (resuming at byte %d) to %s\n", url, start, part)
	} else {
		fe.logf("downloading %s to %s\n", url, part)
	}
	var w io.Writer = out
	if fe.Progress != nil {
		pw, done := fe.Progress(f.Name, total, start)
		defer done()
		w = io.MultiWriter(out, pw)
	}
	limit := int64(maxMember) // no official zip comes near it
	if f.Size > 0 {
		limit = f.Size - start
	}
	t0 := time.Now()
	n, err := io.Copy(w, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fmt.Errorf("GET %s: download broke off after %d bytes: %w", url, start+n, err)
	}
	if n > limit {
		return fmt.Errorf("GET %s: more than %d bytes: %w", url, start+limit, ErrMismatch)
	}
	if err := out.Sync(); err != nil {
		return err
	}
	fe.logf("downloaded %s: %d bytes in %s\n", f.Name, start+n, time.Since(t0).Round(time.Millisecond))
	return out.Close()
}

func (fe *Fetcher) logf(format string, args ...any) {
	if fe.Log != nil {
		fmt.Fprintf(fe.Log, format, args...)
	}
}
