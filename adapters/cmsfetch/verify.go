package cmsfetch

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/codebridge/codebridge/mapping/codes"
)

// ErrMismatch is wrapped by the error of a file whose size or SHA-256 is
// not the one the table lists, or whose structure is not the official one
// (not a zip, the member missing, a bad CRC, records of the wrong shape).
var ErrMismatch = errors.New("not the official file")

// ErrAmbiguous is wrapped by the error of a zip holding several members
// that match the file's member name equally well (the same name in two
// folders, two workbooks of the same revision): the zip may well be the
// official one, but which member to load is not known. The error names
// the members found.
var ErrAmbiguous = errors.New("several members could be the one to load")

// Check is what Verify saw.
type Check struct {
	Size   int64
	SHA256 string
	// Member is the member's path inside the zip ("Code Descriptions/
	// icd10cm_order_2027.txt"); a member of a zip nested in the zip is
	// "inner.zip/member.txt".
	Member       string
	MemberSize   int64
	MemberSHA256 string
	// Pinned is true when a digest from the table vouched for the content.
	Pinned bool
}

// maxMember bounds the uncompressed size of a member read without a known
// size (the largest official member, the ICD-10-CM order file, is 15 MB).
const maxMember = 512 << 20

// Verify checks the zip at p against f: its size and SHA-256 where the
// table knows them; that it opens and holds one member matching f.Member
// or f.MemberPattern (at any depth, or inside one nested zip; of several,
// the one of the highest revision), that the member reads
// back with a good CRC-32, and its size and SHA-256 where known. When no
// digest pins the content, the member's records must also pass the
// loader's checks for f.Release (codes.Catalog.Load; codes.ReadTabular for
// the Tabular List XML), read as a stream while the member is digested.
// Every failure wraps ErrMismatch, except an I/O error reading p and a tie
// between members (ErrAmbiguous).
func Verify(p string, f File) (Check, error) {
	var c Check
	fl, err := os.Open(p)
	if err != nil {
		return c, err
	}
	defer fl.Close()
	h := sha256.New()
	if c.Size, err = io.Copy(h, fl); err != nil {
		return c, fmt.Errorf("read %s: %w", filepath.Base(p), err)
	}
	c.SHA256 = hex.EncodeToString(h.Sum(nil))
	name := filepath.Base(p)
	if f.Size > 0 && c.Size != f.Size {
		return c, fmt.Errorf("%s: %d bytes, the official file has %d: %w", name, c.Size, f.Size, ErrMismatch)
	}
	if f.SHA256 != "" && !strings.EqualFold(c.SHA256, f.SHA256) {
		return c, fmt.Errorf("%s: sha256 %s, the published one is %s: %w", name, c.SHA256, f.SHA256, ErrMismatch)
	}
	m, err := openMember(fl, c.Size, f, name)
	if err != nil {
		return c, err
	}
	c.Member = m.name
	c.Pinned = f.Pinned()
	var shapeErr error
	if c.Pinned {
		c.MemberSize, c.MemberSHA256, err = m.digest(nil)
	} else {
		// The loader's checks read the member as it is digested, through a
		// pipe: nothing holds the whole member (the Tabular List XML is
		// about 10 MB).
		c.MemberSize, c.MemberSHA256, shapeErr, err = m.digestChecked(f.Release)
	}
	if err != nil {
		return c, err
	}
	if f.MemberSize > 0 && c.MemberSize != f.MemberSize {
		return c, fmt.Errorf("%s: member %s has %d bytes, the official one %d: %w", name, c.Member, c.MemberSize, f.MemberSize, ErrMismatch)
	}
	if f.MemberSHA256 != "" && !strings.EqualFold(c.MemberSHA256, f.MemberSHA256) {
		return c, fmt.Errorf("%s: member %s has sha256 %s, the official one %s: %w", name, c.Member, c.MemberSHA256, f.MemberSHA256, ErrMismatch)
	}
	if shapeErr != nil {
		return c, fmt.Errorf("%s: member %s does not read as %s %s: %w (%w)", name, c.Member, f.Release.System, f.Release.Version, ErrMismatch, shapeErr)
	}
	return c, nil
}

// errCheckDone closes the pipe of digestChecked once the check failed.
var errCheckDone = errors.New("the loader's check failed")

// digestChecked digests the member as digest does while checkShape reads
// it, and returns the check's error apart from the digest's.
func (m member) digestChecked(rel codes.Release) (size int64, sum string, shapeErr, err error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := checkShape(rel, pr)
		if err == nil {
			// A reader may stop before the end (the XML after its root
			// element); the digest reads the member to its end.
			_, err = io.Copy(io.Discard, pr)
		}
		if err != nil {
			pr.CloseWithError(errCheckDone)
		}
		done <- err
	}()
	size, sum, err = m.digest(pw)
	pw.CloseWithError(err) // nil: the reader sees the end of the member
	shapeErr = <-done
	if errors.Is(err, errCheckDone) {
		err = nil // the digest stopped because the check failed: report the check
	}
	return size, sum, shapeErr, err
}

// checkShape runs the loader's checks for rel over r and keeps nothing:
// codes.Catalog.Load, except for the Tabular List XML, which is only
// streamed (codes.ReadTabular and the shape check of its codes, the
// checks Catalog.Load and the PostgreSQL loader make) so that memory does
// not grow with the file.
func checkShape(rel codes.Release, r io.Reader) error {
	if rel.System != codes.ICD10CMTabular {
		_, err := codes.NewCatalog().Load(rel, r)
		return err
	}
	var sc codes.ShapeCheck
	err := codes.ReadTabularFor(bufio.NewReaderSize(r, 64<<10), rel, func(n codes.TabularNode) error {
		if n.Kind == codes.NodeDiag {
			sc.Add(codes.ICD10CMTabular, n.Name, !n.Leaf)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return sc.Err(codes.ICD10CMTabular, "")
}

// Extract writes the member of the zip at p that f names to dir, under its
// base name, and returns the path written. Call it after Verify.
func Extract(p string, f File, dir string) (string, error) {
	fl, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer fl.Close()
	st, err := fl.Stat()
	if err != nil {
		return "", err
	}
	m, err := openMember(fl, st.Size(), f, filepath.Base(p))
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, path.Base(m.name))
	w, err := os.Create(out)
	if err != nil {
		return "", err
	}
	if _, _, err := m.digest(w); err != nil {
		w.Close()
		os.Remove(out)
		return "", err
	}
	if err := w.Close(); err != nil {
		os.Remove(out)
		return "", err
	}
	return out, nil
}

// member is one zip member found by openMember.
type member struct {
	name string
	zf   *zip.File
	rev  int // the revision its name carries (File.MemberPattern)
}

// digest reads the member through (checking its CRC-32), copying it to w
// when w is not nil, and returns its size and hex SHA-256.
func (m member) digest(w io.Writer) (int64, string, error) {
	rc, err := m.zf.Open()
	if err != nil {
		return 0, "", fmt.Errorf("member %s: %w (%w)", m.name, ErrMismatch, err)
	}
	defer rc.Close()
	h := sha256.New()
	var dst io.Writer = h
	if w != nil {
		dst = io.MultiWriter(h, w)
	}
	n, err := io.Copy(dst, io.LimitReader(rc, maxMember+1))
	switch {
	case err != nil:
		return n, "", fmt.Errorf("member %s: %w (%w)", m.name, ErrMismatch, err)
	case n > maxMember:
		return n, "", fmt.Errorf("member %s: larger than %d bytes: %w", m.name, int64(maxMember), ErrMismatch)
	}
	return n, hexSum(h), nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// openMember finds the one member of the zip r matching f.Member (or
// f.MemberPattern), looking into nested zips (the CDC ships
// POAexemptCodesFYyy.zip inside its own archive) when the outer zip has
// none. Of several matches the one of the highest revision is taken
// (File.MemberPattern); a tie is refused with ErrAmbiguous.
func openMember(r io.ReaderAt, size int64, f File, name string) (member, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return member{}, fmt.Errorf("%s: not a zip file: %w (%w)", name, ErrMismatch, err)
	}
	match, err := memberMatcher(f)
	if err != nil {
		return member{}, err
	}
	found, names := matchMembers(zr, match)
	if len(found) == 0 {
		for _, zf := range zr.File {
			if !strings.EqualFold(path.Ext(zf.Name), ".zip") || zf.UncompressedSize64 > maxMember {
				continue
			}
			inner, err := readNested(zf)
			if err != nil {
				continue
			}
			in, _ := matchMembers(inner, match)
			for _, m := range in {
				m.name = zf.Name + "/" + m.name
				found = append(found, m)
			}
		}
	}
	if len(found) == 0 {
		return member{}, fmt.Errorf("%s: no member named %s (members: %s): %w", name, f.Member, strings.Join(names, ", "), ErrMismatch)
	}
	top := slices.MaxFunc(found, func(a, b member) int { return a.rev - b.rev }).rev
	found = slices.DeleteFunc(found, func(m member) bool { return m.rev < top })
	if len(found) == 1 {
		return found[0], nil
	}
	var all []string
	for _, m := range found {
		all = append(all, m.name)
	}
	return member{}, fmt.Errorf("%s: %d members match %s equally well (%s); extract the right one and load it with `codebridge codes load --system %s --version %s FILE`: %w",
		name, len(found), f.Member, strings.Join(all, ", "), f.Release.System, f.Release.Version, ErrAmbiguous)
}

// memberMatcher returns the test of a member's base name against f: the
// revision of a match (0 when the name carries none), ok false otherwise.
func memberMatcher(f File) (func(base string) (rev int, ok bool), error) {
	if f.MemberPattern == "" {
		glob := strings.ToLower(f.Member)
		return func(base string) (int, bool) {
			ok, _ := path.Match(glob, strings.ToLower(base))
			return 0, ok
		}, nil
	}
	re, err := regexp.Compile(f.MemberPattern)
	if err != nil {
		return nil, fmt.Errorf("cmsfetch: member pattern of %s: %w", f.Name, err)
	}
	i := re.SubexpIndex("rev")
	return func(base string) (int, bool) {
		m := re.FindStringSubmatch(base)
		if m == nil {
			return 0, false
		}
		rev := 0
		if i >= 0 && m[i] != "" {
			rev, _ = strconv.Atoi(m[i])
		}
		return rev, true
	}, nil
}

// matchMembers returns the files of zr whose base name match accepts, and
// the names of all files for messages.
func matchMembers(zr *zip.Reader, match func(string) (int, bool)) (found []member, names []string) {
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() || strings.HasPrefix(zf.Name, "__MACOSX/") {
			continue
		}
		names = append(names, zf.Name)
		if rev, ok := match(path.Base(zf.Name)); ok {
			found = append(found, member{name: zf.Name, zf: zf, rev: rev})
		}
	}
	slices.Sort(names)
	return found, names
}

func readNested(zf *zip.File) (*zip.Reader, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxMember))
	if err != nil {
		return nil, err
	}
	return zip.NewReader(bytes.NewReader(b), int64(len(b)))
}
