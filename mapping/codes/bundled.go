package codes

import (
	"compress/gzip"
	"embed"
	"fmt"
	"io"
)

//go:embed bundled/*.gz
var bundledFS embed.FS

// Bundle is one public-domain code set shipped inside the binary.
type Bundle struct {
	Release Release
	// Name is the file name as CMS/CDC distribute it.
	Name string
	path string
}

// Open returns the uncompressed content of the bundle in its official
// format. The caller closes it.
func (b Bundle) Open() (io.ReadCloser, error) {
	f, err := bundledFS.Open(b.path)
	if err != nil {
		return nil, fmt.Errorf("codes: bundled %s: %w", b.Name, err)
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("codes: bundled %s: %w", b.Name, err)
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
}{
	{ICD10CM, "FY2026", "icd10cm_order_2026.txt"},
	{ICD10PCS, "FY2026", "icd10pcs_order_2026.txt"},
	{POAExemptList, "FY2026", "POAexemptCodesFY26.txt"},
	{HCPCS, "2025-Oct", "HCPC2025_OCT_ANWEB.derived.csv"},
	{MUETable, "2026Q2", "mue_practitioner_2026q2_dos_only.json"},
	{MCE, "43.1", "mce_v43_1_reference.json"},
}

// Bundled returns the code sets embedded in codebridge: the public-domain
// FY2026 ICD-10-CM and ICD-10-PCS order files, the FY2026 POA-exempt list
// and the October 2025 HCPCS Level II file (a CSV dump of the ANWEB sheet),
// and the 2026 Q2 practitioner MUE values of the date-of-service clinical
// edits (MAI 3): a partial derivative of the CMS table holding code numbers
// and values only (no CPT descriptors; provenance in README "Licence" and
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
		out = append(out, Bundle{Release: rel, Name: b.name, path: "bundled/" + b.name + ".gz"})
	}
	return out
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
