package codes

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type orderCounts struct {
	Lines, Billable, Headers int
	First, Last              OrderRecord
}

func countOrder(tb testing.TB, data []byte) orderCounts {
	tb.Helper()
	var c orderCounts
	err := ReadOrder(bytes.NewReader(data), func(r OrderRecord) error {
		if c.Lines == 0 {
			c.First = r
		}
		c.Lines++
		c.Last = r
		if r.Billable {
			c.Billable++
		} else {
			c.Headers++
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestReadOrderBundled(t *testing.T) {
	tests := []struct {
		name string
		want orderCounts
	}{
		{"icd10cm_order_2026.txt", orderCounts{Lines: 98186, Billable: 74719, Headers: 23467,
			First: OrderRecord{Order: 1, Code: "A00", Short: "Cholera", Long: "Cholera"}}},
		{"icd10pcs_order_2026.txt", orderCounts{Lines: 80029, Billable: 79115, Headers: 914,
			First: OrderRecord{Order: 1, Code: "001", Short: "Central Nervous System and Cranial Nerves, Bypass",
				Long: "Central Nervous System and Cranial Nerves, Bypass"}}},
	}
	for _, tt := range tests {
		got := countOrder(t, bundled(t, tt.name))
		got.Last = OrderRecord{}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestReadOrderLine(t *testing.T) {
	line := "13468 J209    1 Acute bronchitis, unspecified                                Acute bronchitis, unspecified\r\n"
	var got []OrderRecord
	err := ReadOrder(bytes.NewBufferString(line+"\n"), func(r OrderRecord) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := []OrderRecord{{Order: 13468, Code: "J209", Billable: true,
		Short: "Acute bronchitis, unspecified", Long: "Acute bronchitis, unspecified"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"13468 J209    2 x", "1346x J209    1 x", "short"} {
		if err := ReadOrder(bytes.NewBufferString(bad), func(OrderRecord) error { return nil }); err == nil {
			t.Errorf("ReadOrder(%q) succeeded, want error", bad)
		}
	}
}

// BenchmarkLoadICD10CM parses the full FY2026 ICD-10-CM order file (98,186
// lines, 14.7 MB) from memory.
func BenchmarkLoadICD10CM(b *testing.B) {
	data := bundled(b, "icd10cm_order_2026.txt")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := ReadOrder(bytes.NewReader(data), func(OrderRecord) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != 98186 {
			b.Fatalf("read %d records", n)
		}
	}
}

// BenchmarkCatalogLoadICD10CM parses the same file into a Catalog.
func BenchmarkCatalogLoadICD10CM(b *testing.B) {
	data := bundled(b, "icd10cm_order_2026.txt")
	rel, _ := NewRelease(ICD10CM, "FY2026")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewCatalog().Load(rel, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
