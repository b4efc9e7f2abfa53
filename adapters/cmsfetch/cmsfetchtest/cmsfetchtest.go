// Package cmsfetchtest builds fixture zips in the layouts CMS publishes
// and serves them from a local HTTP server that counts its requests and
// can misbehave (fail, cut a body short, ignore Range), for the tests of
// cmsfetch and of `codebridge codes fetch`.
package cmsfetchtest

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/csv"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/codebridge/codebridge/adapters/cmsfetch"
	"github.com/codebridge/codebridge/mapping/codes"
)

//go:embed testdata/*.txt testdata/*.csv testdata/*.xml
var testdata embed.FS

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := testdata.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// CMOrder returns lines of the CMS ICD-10-CM order file.
func CMOrder(t testing.TB) []byte { return read(t, "icd10cm_order_extract.txt") }

// PCSOrder returns lines of the CMS ICD-10-PCS order file.
func PCSOrder(t testing.TB) []byte { return read(t, "icd10pcs_order_extract.txt") }

// POAExempt returns the header and rows of the POA-exempt list.
func POAExempt(t testing.TB) []byte { return read(t, "POAexempt_extract.txt") }

// TabularXML returns a small ICD-10-CM Tabular List XML (a hand-made
// fixture in the official schema: 39 nodes with their notes, 100 rows
// as the loader counts them).
func TabularXML(t testing.TB) []byte { return read(t, "icd10cm_tabular_fixture.xml") }

// HCPCSXLSX returns an ANWEB workbook holding rows of the HCPCS file.
func HCPCSXLSX(t testing.TB) []byte {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(read(t, "HCPC_ANWEB_extract.csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return Workbook(t, rows)
}

// Workbook returns an .xlsx holding rows on its first sheet.
func Workbook(t testing.TB, rows [][]string) []byte {
	t.Helper()
	x := excelize.NewFile()
	defer x.Close()
	sheet := x.GetSheetName(0)
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		vals := make([]any, len(row))
		for j, v := range row {
			vals[j] = v
		}
		if err := x.SetSheetRow(sheet, cell, &vals); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := x.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Member is one file of a fixture zip.
type Member struct {
	Name string
	Data []byte
}

// Zip returns a zip of ms, in order.
func Zip(t testing.TB, ms ...Member) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, m := range ms {
		fw, err := w.CreateHeader(&zip.FileHeader{Name: m.Name, Method: zip.Deflate, Modified: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(m.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// SHA256 is the hex SHA-256 of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Mode is how the server answers for one path.
type Mode int

// The modes of Server.
const (
	Serve         Mode = iota // 200, or 206 for a Range request
	IgnoreRange               // always 200 with the whole content
	Truncate                  // announces the whole length, sends half, closes
	Fail500                   // 500 Internal Server Error
	Stall                     // announces the whole length, sends half, waits for the client to leave
	IgnoreIfRange             // honours Range but not If-Range (206 with the current content, whatever the tag)
)

// ETag is the entity tag Server sends for data: a strong tag derived from
// the content, so a file put again with other content gets another tag.
func ETag(data []byte) string { return `"` + SHA256(data)[:16] + `"` }

// Server serves fixture files under /files/zip/NAME and counts requests.
// Every answer carries the file's ETag; a Range request honours If-Range.
type Server struct {
	*httptest.Server

	mu     sync.Mutex
	files  map[string][]byte
	modes  map[string]Mode
	hits   map[string]int
	ranges []string
	ifr    []string
	agents []string
}

// NewServer starts a Server, closed when the test ends.
func NewServer(t testing.TB) *Server {
	s := &Server{files: map[string][]byte{}, modes: map[string]Mode{}, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Base is the URL of /files/zip.
func (s *Server) Base() string { return s.URL + "/files/zip" }

// Put serves data as NAME in mode m.
func (s *Server) Put(name string, data []byte, m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[name], s.modes[name] = data, m
}

// SetMode changes the mode of NAME.
func (s *Server) SetMode(name string, m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modes[name] = m
}

// Hits returns the number of requests for NAME.
func (s *Server) Hits(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[name]
}

// Total returns the number of requests for any path.
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, h := range s.hits {
		n += h
	}
	return n
}

// Ranges returns the Range headers received, in order ("" for none).
func (s *Server) Ranges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ranges...)
}

// IfRanges returns the If-Range headers received, in order ("" for none).
func (s *Server) IfRanges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.ifr...)
}

// Agents returns the User-Agent headers received.
func (s *Server) Agents() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.agents...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	name, _ := strings.CutPrefix(r.URL.Path, "/files/zip/")
	s.mu.Lock()
	s.hits[name]++
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	s.ifr = append(s.ifr, r.Header.Get("If-Range"))
	s.agents = append(s.agents, r.UserAgent())
	data, ok := s.files[name]
	mode := s.modes[name]
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", ETag(data))
	switch mode {
	case Fail500:
		http.Error(w, "internal error", http.StatusInternalServerError)
	case IgnoreRange:
		w.Header().Set("Content-Type", "application/zip")
		_, _ = w.Write(data)
	case Truncate:
		hj, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "no hijack", http.StatusInternalServerError)
			return
		}
		conn, buf, err := hj.Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nETag: " + ETag(data) +
			"\r\nContent-Length: " + strconv.Itoa(len(data)) + "\r\nConnection: close\r\n\r\n")
		_, _ = buf.Write(data[:len(data)/2])
		_ = buf.Flush()
	case Stall:
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(data[:len(data)/2])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		<-r.Context().Done()
	case IgnoreIfRange:
		r.Header.Del("If-Range")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
	default:
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
	}
}

// FY2027 holds fixture zips in the layouts of the CMS FY2027 files and a
// table pinning them as codebridge's table pins the real ones: the
// ICD-10-CM zip and its member by SHA-256, the ICD-10-PCS zip not at all
// (no published digest: structure only), the POA-exempt zip by SHA-256,
// the Tabular List zip not at all.
type FY2027 struct {
	CM, PCS, POA, HCPCS, Tab []byte // the zips
	CMMember, POAMember      []byte
	PCSMember, HCPCSMember   []byte
	TabMember                []byte
	Table                    cmsfetch.Table
}

// TabZip is the name of the FY2027 "Code Tables, Tabular and Index" zip.
const TabZip = "2027-code-tables-tabular-index.zip"

// NewFY2027 builds the fixtures and a table whose URLs point at base (the
// server's /files/zip, or any other address for --file tests).
func NewFY2027(t testing.TB, base string) *FY2027 {
	t.Helper()
	fx := &FY2027{CMMember: CMOrder(t), PCSMember: PCSOrder(t), POAMember: POAExempt(t), HCPCSMember: HCPCSXLSX(t), TabMember: TabularXML(t)}
	fx.CM = Zip(t, Member{"Code Descriptions/icd10cm_codes_2027.txt", []byte("A000 Cholera\r\n")},
		Member{"Code Descriptions/icd10cm_order_2027.txt", fx.CMMember},
		Member{"Code Descriptions/icd10cm_order_addenda_2027.txt", []byte("Add:  1 X\r\n")})
	fx.PCS = Zip(t, Member{"icd10pcs_order_2027.txt", fx.PCSMember}, Member{"order_addenda_2027.txt", []byte("x\r\n")})
	fx.POA = Zip(t, Member{"POAexemptCodesFY27.txt", fx.POAMember}, Member{"POAexemptAddFY27.txt", fx.POAMember},
		Member{"ReadMePOAexemptFY27.txt", []byte("Description of Present On Admission (POA) files\r\n")})
	fx.HCPCS = HCPCSZip(t, 2027, "JAN", fx.HCPCSMember)
	// The layout of the FY2026/FY2027 "Code Tables, Tabular and Index" zip:
	// everything in "Table and Index/", the Tabular List beside the Index,
	// Drug and Neoplasm tables, their schemas and PDFs.
	fx.Tab = Zip(t, Member{"Table and Index/icd10cm_index_2027.xml", []byte("<ICD10CM.index/>\r\n")},
		Member{"Table and Index/icd10cm_tabular.xsd", []byte("<xs:schema/>\r\n")},
		Member{"Table and Index/icd10cm_tabular_2027.xml", fx.TabMember},
		Member{"Table and Index/icd10cm_tabular_2027.pdf", []byte("%PDF-1.4\r\n")},
		Member{"Table and Index/icd10cm_drug_2027.xml", []byte("<ICD10CM.index/>\r\n")})
	fx.Table = cmsfetch.Table{BaseURL: base}
	fy, err := fx.Table.FY(2027)
	if err != nil {
		t.Fatal(err)
	}
	cm, pcs, poa, tab := fy[0], fy[1], fy[2], fy[3]
	cm.Size, cm.SHA256, cm.MemberSize, cm.MemberSHA256 = int64(len(fx.CM)), SHA256(fx.CM), int64(len(fx.CMMember)), SHA256(fx.CMMember)
	poa.Size, poa.SHA256, poa.MemberSize = int64(len(fx.POA)), SHA256(fx.POA), int64(len(fx.POAMember))
	fx.Table.Files = []cmsfetch.File{cm, pcs, poa, tab}
	return fx
}

// HCPCSZip returns a quarterly HCPCS zip of year y and quarter mon (JAN,
// APR, JUL, OCT) in the layout of the October 2026 zip: beside the ANWEB
// workbook (anweb) the same records as fixed-width text, the quarter's
// "Transaction Report" workbook and a "Corrections" workbook, all under the
// one prefix HCPCYYYY_MON_ANWEB (the real zip:
// HCPC2026_OCT_ANWEB_v2.xlsx, HCPC2026_OCT_ANWEB_v2.txt,
// "HCPC2026_OCT_ANWEB_Transaction Report_v2.xlsx",
// HCPC2026_OCT_ANWEB_Corrections_....xlsx; the suffix of the last is not
// known here). The other workbooks hold real .xlsx content, so loading one
// of them instead of the ANWEB workbook shows.
func HCPCSZip(t testing.TB, y int, mon string, anweb []byte) []byte {
	t.Helper()
	p := "HCPC" + strconv.Itoa(y) + "_" + mon + "_ANWEB"
	report := Workbook(t, [][]string{{"HCPC", "ACTION CD", "ACTION EFFECTIVE DATE", "LONG DESCRIPTION"},
		{"J0139", "N", "20261001", "Injection, adalimumab, 1 mg"}})
	corrections := Workbook(t, [][]string{{"HCPC", "CORRECTION"}, {"J0139", "long description corrected"}})
	return Zip(t, Member{p + "_v2.xlsx", anweb},
		Member{p + "_v2.txt", []byte("J0139 fixed-width record\r\n")},
		Member{p + "_Transaction Report_v2.xlsx", report},
		Member{p + "_Corrections_v2.xlsx", corrections})
}

// Serve puts the fixtures on s under their official names.
func (fx *FY2027) Serve(s *Server) {
	s.Put("2027-code-descriptions-tabular-order.zip", fx.CM, Serve)
	s.Put("2027-icd-10-pcs-order-file-long-abbreviated-titles.zip", fx.PCS, Serve)
	s.Put("2027-poa-exempt-codes.zip", fx.POA, Serve)
	s.Put(TabZip, fx.Tab, Serve)
	s.Put("january-2027-alpha-numeric-hcpcs-file.zip", fx.HCPCS, Serve)
}

// File returns the table's file of system sys.
func (fx *FY2027) File(t testing.TB, sys codes.System) cmsfetch.File {
	t.Helper()
	if sys == codes.HCPCS {
		f, err := fx.Table.HCPCS(2027, time.January)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	fy, err := fx.Table.FY(2027)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fy {
		if f.Release.System == sys {
			return f
		}
	}
	t.Fatalf("no %s file", sys)
	return cmsfetch.File{}
}
