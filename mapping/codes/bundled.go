package codes

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
)

//go:embed bundled/*.gz
var bundledFS embed.FS

// Bundle is one public-domain code set shipped inside the binary: either
// an official file, or a release derived from bundled official files (the
// FY2027 ICD-10-CM order file, which is the bundled FY2026 order file with
// the bundled FY2027 order-file addenda applied; see DeriveOrder).
type Bundle struct {
	Release Release
	// Name is the file name as CMS/CDC distribute it or, for a derived
	// bundle, what it was derived from ("icd10cm_order_addenda_2027.txt
	// applied to icd10cm_order_2026.txt"). Loaders record it as the
	// release's source.
	Name string
	// Base and Addenda name the bundled files a derived bundle is made of;
	// both are empty for a bundle that is a file.
	Base, Addenda string
	path          string
	baseRelease   Release
}

// Derived reports whether the bundle is derived from other bundled files
// rather than shipped as a file.
func (b Bundle) Derived() bool { return b.Addenda != "" }

// Open returns the uncompressed content of the bundle in its official
// format: for a derived bundle, the order file DeriveOrder gives, written
// by WriteOrder. The caller closes it.
func (b Bundle) Open() (io.ReadCloser, error) {
	if b.Derived() {
		data, err := b.derive()
		if err != nil {
			return nil, fmt.Errorf("codes: bundled %s: %w", b.Name, err)
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	return openBundled(b.path, b.Name)
}

// derive applies the bundled addenda to the bundled base order file.
func (b Bundle) derive() ([]byte, error) {
	rc, err := openBundled("bundled/"+b.Addenda+".gz", b.Addenda)
	if err != nil {
		return nil, err
	}
	a, err := ReadOrderAddenda(rc)
	rc.Close()
	if err != nil {
		return nil, err
	}
	rc, err = openBundled("bundled/"+b.Base+".gz", b.Base)
	if err != nil {
		return nil, err
	}
	base, err := ReadOrderRecords(rc)
	rc.Close()
	if err != nil {
		return nil, err
	}
	recs, err := DeriveOrder(a, b.baseRelease, base, b.Release)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(15 << 20)
	if err := WriteOrder(&buf, recs); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// openBundled opens the embedded gzipped file at path.
func openBundled(path, name string) (io.ReadCloser, error) {
	f, err := bundledFS.Open(path)
	if err != nil {
		return nil, fmt.Errorf("codes: bundled %s: %w", name, err)
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("codes: bundled %s: %w", name, err)
	}
	return readCloser{z, f}, nil
}

type readCloser struct {
	*gzip.Reader
	f io.Closer
}

func (rc readCloser) Close() error {
	err := rc.Reader.Close()
	if e := rc.f.Close(); err == nil {
		err = e
	}
	return err
}

var bundles = []struct {
	system  System
	version string
	name    string
	// addenda, when set, derives the release from the bundle called name
	// (a release of the previous fiscal year) with this addenda.
	addenda string
}{
	{ICD10CM, "FY2026", "icd10cm_order_2026.txt", ""},
	{ICD10CM, "FY2027", "icd10cm_order_2026.txt", "icd10cm_order_addenda_2027.txt"},
	{ICD10PCS, "FY2026", "icd10pcs_order_2026.txt", ""},
	{POAExemptList, "FY2026", "POAexemptCodesFY26.txt", ""},
	{HCPCS, "2025-Oct", "HCPC2025_OCT_ANWEB.derived.csv", ""},
	{MUETable, "2026Q2", "mue_practitioner_2026q2_dos_only.json", ""},
	{MCE, "43.1", "mce_v43_1_reference.json", ""},
}

// Bundled returns the code sets embedded in codebridge: the public-domain
// FY2026 ICD-10-CM and ICD-10-PCS order files, the FY2027 ICD-10-CM order
// file derived from the FY2026 one and the official FY2027 order-file
// addenda (icd10cm_order_addenda_2027.txt, checked against the counts of
// its footer; DeriveOrder), the FY2026 POA-exempt list and the October
// 2025 HCPCS Level II file (a CSV dump of the ANWEB sheet), and the 2026
// Q2 practitioner MUE values of the date-of-service clinical edits (MAI
// 3): a partial derivative of the CMS table holding code numbers and
// values only (no CPT descriptors; provenance in README "Licence" and
// testdata/codesets/README.md). The official CMS practitioner MUE file
// could not be obtained, so the bundle is that extract, loaded as partial
// (MUEPartialMarker): a code it does not list is "not checked", never
// "no MUE". The Medicare Code Editor v43.1 lists (April 2026 update) are
// bundled as the JSON extraction of the CMS text file (SOURCES.upstream.md
// §7). PTP and CPT are never bundled.
func Bundled() []Bundle {
	out := make([]Bundle, 0, len(bundles))
	for _, b := range bundles {
		rel, err := NewRelease(b.system, b.version)
		if err != nil {
			panic(err) // the table above is fixed
		}
		if b.addenda == "" {
			out = append(out, Bundle{Release: rel, Name: b.name, path: "bundled/" + b.name + ".gz"})
			continue
		}
		base, err := NewRelease(b.system, fmt.Sprint(fiscalYear(rel)-1))
		if err != nil {
			panic(err)
		}
		out = append(out, Bundle{Release: rel, Name: b.addenda + " applied to " + b.name,
			Base: b.name, Addenda: b.addenda, baseRelease: base})
	}
	return out
}

// BundledFile returns the uncompressed content of a file embedded under
// bundled/ by its official name, such as the FY2027 ICD-10-CM addenda
// "icd10cm_order_addenda_2027.txt" that a derived bundle is made of.
func BundledFile(name string) (io.ReadCloser, error) {
	return openBundled("bundled/"+name+".gz", name)
}

// LoadBundled loads every bundled code set into c.
func LoadBundled(c *Catalog) error {
	for _, b := range Bundled() {
		rc, err := b.Open()
		if err != nil {
			return err
		}
		_, err = c.Load(b.Release, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("codes: bundled %s: %w", b.Name, err)
		}
	}
	return nil
}
