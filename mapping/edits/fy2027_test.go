package edits

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFY2027Diagnoses: with the bundled code sets (FY2026 and the FY2027
// ICD-10-CM derived from the FY2027 addenda), the edits follow the release
// of the date of service across 2026-10-01. D69.1 "Qualitative platelet
// defects" is billable in FY2026 and a header in FY2027, whose new codes
// D69.11 and D69.19 do not exist before 2026-10-01 (FY2027
// icd10cm_order_addenda_2027.txt: "Delete: 1 D691", "Add: 0 D691",
// "Add: 1 D6911"; Medicare Claims Processing Manual, Pub. 100-04, ch. 23,
// sec. 10.2: codes by the date of service).
func TestFY2027Diagnoses(t *testing.T) {
	today, before := date(2026, 12, 8), date(2026, 9, 30)
	for _, tt := range []struct {
		code string
		dos  time.Time
		want []string
	}{
		{"D69.1", today, []string{DxHeader}},
		{"D69.11", today, nil},
		{"D69.1", before, nil},
		{"D69.11", before, []string{CodeNotYetValid}},
	} {
		t.Run(tt.code+" "+tt.dos.Format(time.DateOnly), func(t *testing.T) {
			chart := Chart{Class: "AMB", ClaimType: Professional, Start: tt.dos, Diagnoses: []Diagnosis{{Code: tt.code}}}
			got, err := Check(context.Background(), testCatalog(t), chart)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, ed := range got {
				if ed.Target == "diagnoses[0]" {
					codes = append(codes, ed.Code)
					if ed.Code == CodeNotYetValid && (!strings.Contains(ed.Message, "FY2027") || !strings.Contains(ed.Message, "FY2026")) {
						t.Errorf("%s message %q does not name the releases", ed.Code, ed.Message)
					}
				}
			}
			if diff := cmp.Diff(tt.want, codes); diff != "" {
				t.Errorf("edits on diagnoses[0] mismatch (-want +got):\n%s\nall edits: %+v", diff, got)
			}
		})
	}
}
