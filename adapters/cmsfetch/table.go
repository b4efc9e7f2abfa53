// Package cmsfetch downloads the official code-set files from their
// publisher (CMS), checks each against a table of the published byte sizes
// and SHA-256 digests, and finds in each zip the member codebridge loads.
//
// It is an adapter: it speaks HTTP. It knows nothing of the database; the
// `codebridge codes fetch` command wires it to the PostgreSQL code store.
//
// # What is checked
//
// A file whose SHA-256 the table knows is accepted only with that digest
// (and that size). A file whose digest nobody published is accepted on its
// structure: the size when known, the zip opens, one member has the
// expected name (of several versions, the highest: File.MemberPattern),
// it reads back with a good CRC-32, and its records pass the loader's own
// checks (codes.Catalog.Load; for the Tabular List XML, codes.ReadTabular
// and the shape check, streamed without keeping the tree); the digest seen
// is reported so an operator can record it.
//
// # Keeping nothing partial
//
// A download goes to DIR/NAME.part and becomes DIR/NAME only once verified.
// A complete download that fails verification (wrong size or digest, a bad
// zip, the member missing or of the wrong shape) deletes the .part. A
// download that did not complete (the connection dropped mid-body, a
// server error, the context cancelled or timed out) keeps it, with the
// ETag or Last-Modified of its response in DIR/NAME.part.meta, and the
// next run asks for the rest with an HTTP Range request conditioned on it
// (If-Range): a 206 resumes, a 200 (the server has another file now, or
// does not do ranges) starts again from nothing.
package cmsfetch

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
)

// CMSBaseURL is where CMS publishes its code-set zips.
const CMSBaseURL = "https://www.cms.gov/files/zip"

// File is one official file: a zip as its publisher distributes it and the
// member in it that codebridge loads as one release.
type File struct {
	// Release is what the member is loaded as (icd10cm FY2027, hcpcs 2027-Jan).
	Release codes.Release
	// URL is where the publisher serves the zip.
	URL string
	// Alternates are tried in order when URL answers 404 (CMS has spelled
	// some files two ways over the years).
	Alternates []string
	// Name is the zip's file name in the download directory.
	Name string
	// Size is the zip's size in bytes; 0 when not known.
	Size int64
	// SHA256 is the zip's hex SHA-256; "" when no digest was published.
	SHA256 string
	// Member is the base name of the member to load, matched without regard
	// to case and to the folder it sits in; it may hold * and ? (path.Match).
	// When MemberPattern is set, Member only names the member in messages.
	Member string
	// MemberPattern, when not "", is a regular expression the member's base
	// name must match (case folded, anchored by the pattern itself). Its
	// submatch named "rev", when a member has it, is a revision number:
	// of several matching members the one with the highest revision is
	// loaded (a member without it counts as revision 0), and two members
	// of the same highest revision are refused as ambiguous (ErrAmbiguous).
	MemberPattern string
	// MemberSize and MemberSHA256 describe the member's content when known
	// (0 and "" otherwise). The loader records the SHA-256 of the content
	// it loads, so a known MemberSHA256 tells before any download whether
	// the release is loaded already.
	MemberSize   int64
	MemberSHA256 string
}

// Pinned reports whether the table pins the content of f by a digest
// (of the zip or of its member).
func (f File) Pinned() bool { return f.SHA256 != "" || f.MemberSHA256 != "" }

// Table is the list of official files codebridge knows, and the base URL
// from which it derives the address of a file it does not list (a later
// fiscal year or HCPCS quarter, which then has no known digest).
type Table struct {
	BaseURL string
	Files   []File
}

// Official returns the table of the CMS files: explicit entries where sizes
// or digests are known, and the CMS naming patterns for the rest.
func Official() Table {
	return Table{BaseURL: CMSBaseURL, Files: officialFiles(CMSBaseURL)}
}

// officialFiles lists what is known of the official files. Sources:
//
//   - ICD-10-CM FY2027: size, SHA-256 and member values are the ones stated
//     in issue #18 ("known published values"); the same zip digest, size and
//     the member folder "Code Descriptions/" were recorded independently by
//     a third-party acquisition manifest (download of 2026-07-19 from the
//     CMS ICD-10 page). The member's size (14,724,229) also equals the size
//     of the FY2027 file derived here from the FY2026 order file and the
//     official FY2027 addenda (shared SOURCES.upstream.md §6).
//   - POA-exempt FY2027: zip size and SHA-256 as stated in issue #18 and in
//     that same manifest, which lists the member POAexemptCodesFY27.txt
//     (4,077,325 bytes by that manifest alone: not enforced, the zip digest
//     pins the content; no member digest known).
//   - ICD-10-PCS FY2027: the URL is confirmed by two independent download
//     scripts (dewittpe/medicalcoder data-raw/icd/icd10/download.sh and the
//     manifest above, which lists it among the FY2027 files on the CMS
//     page); note CMS dropped the "-and-" of earlier years. The member name
//     icd10pcs_order_2027.txt is from medicalcoder's cms-releases.tsv. Size
//     and SHA-256: not published, unknown here. (A third-party build script
//     pinned sha256 c9064c5c66873ecc4cc9aab1b100be605f2db457fd458113076b5eb6ce246439
//     for its download of 2026-10-02; it is not a CMS value and is not
//     enforced: compare it with the digest `codes fetch` prints.)
//   - ICD-10-CM FY2026: zip SHA-256 from issue #18, size from the shared
//     SOURCES.upstream.md §1 (2,204,985); the member's size and SHA-256 are
//     those of icd10cm_order_2026.txt unzipped from it (the file bundled in
//     codebridge, byte-identical).
//   - ICD-10-PCS FY2026: size 1,319,592 from SOURCES.upstream.md §2 (zip
//     digest unknown; third-party pin 64e37e6060bfd9eca74d9973be28fdf570b40f87a3a855bd078eb343dd0e594e,
//     not enforced); member values from icd10pcs_order_2026.txt unzipped
//     from it (bundled, byte-identical).
//   - POA-exempt FY2026: nothing pinned. codebridge bundles the CDC copy
//     (POAexemptCodesFY26.zip on ftp.cdc.gov); that the CMS zip holds the
//     same bytes is assumed, not checked.
//   - ICD-10-CM Tabular List XML (icd10cm-tabular), the "Code Tables,
//     Tabular and Index" zip: nothing pinned for any year (no size or digest
//     published; a third-party manifest of 2026-10-04 records the FY2027 zip
//     as 22,059,093 bytes, sha256 37baa476323714be16f95c9b2c96812bf6f3623d9f15188866e584dc529b0298,
//     not a CMS value and not enforced: compare it with the digest `codes
//     fetch` prints). Verified by structure and by the loader's own checks
//     (codes.ReadTabular over the whole member). FY2026 is at
//     /files/zip/2026-code-tables-tabular-and-index.zip (README "Tabular List
//     instructions"; the same spelling for 2022, 2024 and 2025 in third-party
//     scripts). For FY2027 several third-party scripts and manifests
//     (downloads of 2026-10) name 2027-code-tables-tabular-index.zip, without
//     the "-and-", and the April 2026 update
//     april-1-2026-code-tables-tabular-index.zip: CMS dropped the "-and-" as
//     it did for the ICD-10-PCS order file. Both spellings are tried, the
//     later one first from FY2027 on. The member: the same scripts read
//     "Table and Index/icd10cm_tabular_YYYY.xml" for FY2022, FY2026 and
//     FY2027, "2020 Table and Index/..." for FY2020,
//     "2021-code-tables-and-index/..." for FY2021 (an
//     "-updated-12162020" zip), and one script's list has
//     icd10cm_tabular_YYYY.xml at the top level for FY2017-FY2019 and
//     FY2023-FY2025 (CDC zips, or its own extraction): the base name has been
//     icd10cm_tabular_YYYY.xml since FY2017, and the member is matched at
//     any depth. Earlier files had other names (FY15_Tabular.xml,
//     ICD10CM_FY2013_Full_XML_Tabular.xml, draft years; FY2016 came from
//     another address): load those with `codes load --system
//     icd10cm-tabular`. The zip also holds the Index, Drug and Neoplasm XML
//     and the PDFs, which are not read.
//
// URL patterns (used for every year not listed): the CMS ICD-10 page serves
// /files/zip/YYYY-code-descriptions-tabular-order.zip,
// /files/zip/YYYY-icd-10-pcs-order-file-long-abbreviated-titles.zip
// (2025 and 2026: "-long-and-abbreviated-titles") and
// /files/zip/YYYY-poa-exempt-codes.zip (confirmed for 2025 by a third-party
// manifest and for 2027 as above) and /files/zip/YYYY-code-tables-tabular-index.zip
// (until 2026 "-tabular-and-index", as above); the quarterly HCPCS page serves
// /files/zip/MONTH-YYYY-alpha-numeric-hcpcs-file.zip (confirmed for
// january-2025, october-2025, january-2026, july-2026 in third-party
// scripts; some quarters, e.g. October 2023, used "-hcpcs-files.zip"),
// holding the ANWEB workbook HCPCYYYY_MON_ANWEB[_vN|_MMDDYYYY].xlsx (see
// hcpcsMember).
// CMS re-posts corrected files under new names ("-updated-..."): then
// `--url` gives the new address.
func officialFiles(base string) []File {
	cm27 := patternFY(base, codes.ICD10CM, 2027)
	cm27.Size, cm27.SHA256 = 2_208_022, "91c6c9d1117764ce72375a0f3a5493b1725dafbc1ab283b55799076c9e194965"
	cm27.MemberSize, cm27.MemberSHA256 = 14_724_229, "38981fb2c1226e2b92393cef7d921d2293494dd184b5ad039dde08e4b364265f"
	poa27 := patternFY(base, codes.POAExemptList, 2027)
	poa27.Size, poa27.SHA256 = 1_654_940, "03f55091045024d07c99860470b9069ef2db4c19242d4c2ba0e9f30905bea904"
	cm26 := patternFY(base, codes.ICD10CM, 2026)
	cm26.Size, cm26.SHA256 = 2_204_985, "55a9124a27ca78a4a5c41e1101eda064ec2e08d105ff9e78d1fbd1a83298ef11"
	cm26.MemberSize, cm26.MemberSHA256 = 14_694_719, "6dc95c9c7e96c734806e1682f4bf9df76251d60e99199bba0d375ba3dd11026b"
	pcs26 := patternFY(base, codes.ICD10PCS, 2026)
	// FY2026 kept the "-and-" (SOURCES.upstream.md §2); the later spelling is the alternate.
	pcs26.Name = "2026-icd-10-pcs-order-file-long-and-abbreviated-titles.zip"
	pcs26.URL, pcs26.Alternates = base+"/"+pcs26.Name, []string{pcs26.URL}
	pcs26.Size = 1_319_592
	pcs26.MemberSize, pcs26.MemberSHA256 = 12_221_793, "4ff173041491c6a68c13b8810f0e1968b6f0d00c3ecc1deac74f7ad3439dfcc1"
	tab26 := patternFY(base, codes.ICD10CMTabular, 2026)
	// FY2026 kept the "-and-" (README "Tabular List instructions"); the later spelling is the alternate.
	tab26.Name = "2026-code-tables-tabular-and-index.zip"
	tab26.URL, tab26.Alternates = base+"/"+tab26.Name, []string{tab26.URL}
	return []File{cm27, patternFY(base, codes.ICD10PCS, 2027), poa27, patternFY(base, codes.ICD10CMTabular, 2027), cm26, pcs26, tab26}
}

// FY returns the files of fiscal year y: the ICD-10-CM order file, the
// ICD-10-PCS order file, the POA-exempt list and the ICD-10-CM Tabular
// List XML, from the table where it lists them, else by the CMS naming
// pattern (no known digest).
func (t Table) FY(y int) ([]File, error) {
	if y < 2016 || y > 2100 {
		return nil, fmt.Errorf("cmsfetch: fiscal year %d: ICD-10 fiscal years start with 2016", y)
	}
	var out []File
	for _, sys := range []codes.System{codes.ICD10CM, codes.ICD10PCS, codes.POAExemptList, codes.ICD10CMTabular} {
		out = append(out, t.lookup(patternFY(t.BaseURL, sys, y)))
	}
	return out, nil
}

// HCPCS returns the quarterly HCPCS Level II file effective on the first
// day of month m of year y (January, April, July or October).
func (t Table) HCPCS(y int, m time.Month) (File, error) {
	if m != time.January && m != time.April && m != time.July && m != time.October {
		return File{}, fmt.Errorf("cmsfetch: HCPCS %d-%02d: the HCPCS file is quarterly; want month 01, 04, 07 or 10", y, int(m))
	}
	if y < 2000 || y > 2100 {
		return File{}, fmt.Errorf("cmsfetch: HCPCS year %d out of range", y)
	}
	mon := m.String()[:3] // Jan
	rel, err := codes.NewRelease(codes.HCPCS, fmt.Sprintf("%d-%s", y, mon))
	if err != nil {
		return File{}, fmt.Errorf("cmsfetch: %w", err)
	}
	name := fmt.Sprintf("%s-%d-alpha-numeric-hcpcs-file.zip", strings.ToLower(m.String()), y)
	f := File{Release: rel, Name: name, URL: t.BaseURL + "/" + name,
		Alternates: []string{t.BaseURL + "/" + strings.TrimSuffix(name, "file.zip") + "files.zip"}}
	f.Member, f.MemberPattern = hcpcsMember(y, mon)
	return t.lookup(f), nil
}

// hcpcsMember returns the display name and the pattern of the ANWEB
// workbook of the HCPCS quarter y, mon. The quarterly zip holds more than
// the workbook, all under the same prefix; the October 2026 zip, for one,
// holds HCPC2026_OCT_ANWEB_v2.xlsx (the workbook), HCPC2026_OCT_ANWEB_v2.txt
// (the same records, fixed width), "HCPC2026_OCT_ANWEB_Transaction
// Report_v2.xlsx" (the changes of the quarter) and a
// HCPC2026_OCT_ANWEB_Corrections_*.xlsx. Earlier quarters name the
// workbook with a date (HCPC2026_JAN_ANWEB_01122026.xlsx) or nothing after
// ANWEB (HCPC2025_OCT_ANWEB.xlsx). So the workbook is HCPCYYYY_MON_ANWEB,
// then nothing, _vN or _MMDDYYYY, then .xlsx; a re-posted zip holding two
// versions loads the highest _vN.
func hcpcsMember(y int, mon string) (display, pattern string) {
	prefix := fmt.Sprintf("HCPC%d_%s_ANWEB", y, strings.ToUpper(mon))
	return prefix + "[_vN|_MMDDYYYY].xlsx",
		`(?i)^` + regexp.QuoteMeta(prefix) + `(?:_v(?P<rev>\d+)|_\d{8})?\.xlsx$`
}

// lookup returns the table's entry for the release of f, or f itself.
func (t Table) lookup(f File) File {
	for _, k := range t.Files {
		if k.Release.System == f.Release.System && k.Release.Version == f.Release.Version {
			return k
		}
	}
	return f
}

// patternFY derives the CMS file of system sys for fiscal year y.
func patternFY(base string, sys codes.System, y int) File {
	f := File{Release: mustRelease(sys, fmt.Sprintf("FY%d", y))}
	switch sys {
	case codes.ICD10CM:
		f.Name, f.Member = fmt.Sprintf("%d-code-descriptions-tabular-order.zip", y), fmt.Sprintf("icd10cm_order_%d.txt", y)
	case codes.ICD10PCS:
		f.Name, f.Member = fmt.Sprintf("%d-icd-10-pcs-order-file-long-abbreviated-titles.zip", y), fmt.Sprintf("icd10pcs_order_%d.txt", y)
		f.Alternates = []string{fmt.Sprintf("%s/%d-icd-10-pcs-order-file-long-and-abbreviated-titles.zip", base, y)}
	case codes.POAExemptList:
		f.Name, f.Member = fmt.Sprintf("%d-poa-exempt-codes.zip", y), fmt.Sprintf("POAexemptCodesFY%02d.txt", y%100)
	case codes.ICD10CMTabular:
		// The "Code Tables, Tabular and Index" zip; see officialFiles.
		f.Name, f.Member = fmt.Sprintf("%d-code-tables-tabular-index.zip", y), fmt.Sprintf("icd10cm_tabular_%d.xml", y)
		f.Alternates = []string{fmt.Sprintf("%s/%d-code-tables-tabular-and-index.zip", base, y)}
	}
	f.URL = base + "/" + f.Name
	return f
}

func mustRelease(sys codes.System, version string) codes.Release {
	rel, err := codes.NewRelease(sys, version)
	if err != nil {
		panic(err) // fixed labels above
	}
	return rel
}
