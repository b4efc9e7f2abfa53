package codes

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"
)

func ymd(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestReadHCPCSBundled(t *testing.T) {
	data := bundled(t, "HCPC2025_OCT_ANWEB.derived.csv")
	var codes, mods int
	got := map[string]HCPCSRecord{}
	err := ReadHCPCSCSV(bytes.NewReader(data), func(r HCPCSRecord) error {
		if r.Modifier {
			mods++
		} else {
			codes++
		}
		got[r.Code] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if codes != 8463 || mods != 383 {
		t.Errorf("read %d codes and %d modifiers, want 8463 and 383", codes, mods)
	}
	want := map[string]HCPCSRecord{
		"XU": {Code: "XU", Modifier: true, Long: got["XU"].Long, Short: "Unusual separate service",
			Added: ymd(2015, 1, 1), ActionEffective: ymd(2015, 1, 1), Action: "N"},
		"J1885": {Code: "J1885", Long: got["J1885"].Long, Short: "Ketorolac tromethamine inj",
			Added: ymd(1993, 1, 1), ActionEffective: ymd(2025, 1, 1), Action: "N"},
		"A4397": {Code: "A4397", Long: got["A4397"].Long, Short: got["A4397"].Short,
			Added: ymd(1990, 1, 1), ActionEffective: got["A4397"].ActionEffective, Terminated: ymd(2021, 12, 31), Action: "N"},
	}
	for code, w := range want {
		if diff := cmp.Diff(w, got[code]); diff != "" || w.Long == "" {
			t.Errorf("%s mismatch (-want +got):\n%s", code, diff)
		}
	}
}

// TestReadHCPCSXLSX writes the first rows of the bundled CSV into a
// workbook with the ANWEB layout and checks that both readers agree.
func TestReadHCPCSXLSX(t *testing.T) {
	rows, err := csv.NewReader(bytes.NewReader(bundled(t, "HCPC2025_OCT_ANWEB.derived.csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows = append(rows[:300:300], rows[len(rows)-100:]...)
	f := excelize.NewFile()
	var text strings.Builder
	w := csv.NewWriter(&text)
	for i, row := range rows {
		cells := make([]any, len(row))
		for j, v := range row {
			cells[j] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &cells); err != nil {
			t.Fatal(err)
		}
		w.Write(row)
	}
	w.Flush()
	var book bytes.Buffer
	if err := f.Write(&book); err != nil {
		t.Fatal(err)
	}
	var fromCSV, fromXLSX []HCPCSRecord
	if err := ReadHCPCSCSV(strings.NewReader(text.String()), func(r HCPCSRecord) error { fromCSV = append(fromCSV, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := ReadHCPCSXLSX(&book, func(r HCPCSRecord) error { fromXLSX = append(fromXLSX, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(fromCSV) != 399 {
		t.Errorf("read %d CSV records, want 399", len(fromCSV))
	}
	if diff := cmp.Diff(fromCSV, fromXLSX); diff != "" {
		t.Errorf("xlsx mismatch (-csv +xlsx):\n%s", diff)
	}
}

func TestReadHCPCSContinuation(t *testing.T) {
	in := "HCPC,SEQNUM,RECID,LONG DESCRIPTION,SHORT DESCRIPTION,ADD DT,ACT EFF DT,TERM DT,ACTION CD\n" +
		"A0001,0010,3,First part,Short,20200101,20200101,,N\n" +
		"A0001,0020,4,second part,,,,,\n" +
		"   ZZ,0010,7,Mod,Mod,20200101,20200101,20201231,D\n"
	var got []HCPCSRecord
	if err := ReadHCPCSCSV(strings.NewReader(in), func(r HCPCSRecord) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []HCPCSRecord{
		{Code: "A0001", Long: "First part second part", Short: "Short", Added: ymd(2020, 1, 1), ActionEffective: ymd(2020, 1, 1), Action: "N"},
		{Code: "ZZ", Modifier: true, Long: "Mod", Short: "Mod", Added: ymd(2020, 1, 1), ActionEffective: ymd(2020, 1, 1), Terminated: ymd(2020, 12, 31), Action: "D"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestReadMUE(t *testing.T) {
	var fromCSV []MUE
	if err := ReadMUE(openTestdata(t, "mue_practitioner_cms_layout_extract.csv"), func(m MUE) error { fromCSV = append(fromCSV, m); return nil }); err != nil {
		t.Fatal(err)
	}
	wantCSV := []MUE{
		{Code: "80053", MaxUnits: 1, Indicator: MAIDOSClinic, Rationale: "Clinical: Data"},
		{Code: "11042", MaxUnits: 1, Indicator: MAIDOSPolicy, Rationale: "Code Descriptor / CPT Instruction"},
		{Code: "97110", MaxUnits: 4, Indicator: MAILine, Rationale: "Clinical: Data"},
	}
	if diff := cmp.Diff(wantCSV, []MUE{fromCSV[0], fromCSV[6], fromCSV[8]}); diff != "" || len(fromCSV) != 10 {
		t.Errorf("CMS layout: %d rows; mismatch (-want +got):\n%s", len(fromCSV), diff)
	}
	got := map[string]MUE{}
	if err := ReadMUEJSON(openTestdata(t, "mue_practitioner_2026q2_extract.json"), func(m MUE) error { got[m.Code] = m; return nil }); err != nil {
		t.Fatal(err)
	}
	want := map[string]MUE{"80053": {Code: "80053", MaxUnits: 1, Indicator: MAIDOSClinic}, "99213": {Code: "99213", MaxUnits: 2, Indicator: MAIDOSClinic}}
	if diff := cmp.Diff(want, map[string]MUE{"80053": got["80053"], "99213": got["99213"]}); diff != "" || len(got) != 27 {
		t.Errorf("JSON: %d codes; mismatch (-want +got):\n%s", len(got), diff)
	}
	for _, table := range []string{"Outpatient Hospital", "DME Supplier"} {
		in := "HCPCS/CPT Code," + table + " Services MUE Values,MUE Adjudication Indicator\n99213,1,3 Date of Service Edit: Clinical\n"
		if err := ReadMUE(strings.NewReader(in), func(MUE) error { return nil }); err == nil {
			t.Errorf("ReadMUE of the %s table succeeded, want error (practitioner table only)", table)
		}
	}
	if err := ReadMUE(strings.NewReader("a,b\n1,2\n"), func(MUE) error { return nil }); err == nil {
		t.Error("ReadMUE without a header succeeded, want error")
	}
	// The JSON extract's adjudication types: date_of_service is MAI 3 (the
	// extract kept only those rows), line or claim_line MAI 1; any other
	// type is refused rather than guessed.
	var fromJSON []MUE
	in := `{"36415": {"maxUnits": 3, "adjudicationType": "claim_line"}, "97110": {"maxUnits": 4, "adjudicationType": "line"}}`
	if err := ReadMUEJSON(strings.NewReader(in), func(m MUE) error { fromJSON = append(fromJSON, m); return nil }); err != nil {
		t.Fatal(err)
	}
	wantJSON := []MUE{{Code: "36415", MaxUnits: 3, Indicator: MAILine}, {Code: "97110", MaxUnits: 4, Indicator: MAILine}}
	if diff := cmp.Diff(wantJSON, fromJSON); diff != "" {
		t.Errorf("JSON types mismatch (-want +got):\n%s", diff)
	}
	if err := ReadMUEJSON(strings.NewReader(`{"99213": {"maxUnits": 2, "adjudicationType": "policy"}}`), func(MUE) error { return nil }); err == nil {
		t.Error("ReadMUEJSON with an unknown adjudicationType succeeded, want error")
	}
}

func TestReadPTP(t *testing.T) {
	var got []PTP
	if err := ReadPTP(openTestdata(t, "ptp_practitioner_cms_layout_extract.txt"), func(p PTP) error { got = append(got, p); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []PTP{
		{Column1: "20610", Column2: "76942", Effective: ymd(2015, 1, 1), Modifier: 0, Rationale: "Standards of medical / surgical practice"},
		{Column1: "93000", Column2: "93005", PriorTo1996: true, Effective: ymd(1996, 1, 1), Modifier: 0, Rationale: "Misuse of column two code with column one code"},
		{Column1: "99214", Column2: "36415", Effective: ymd(2020, 1, 1), Deleted: ymd(2021, 1, 1), Modifier: 9, Rationale: "Standards of medical / surgical practice"},
	}
	if diff := cmp.Diff(want, []PTP{got[0], got[2], got[5]}); diff != "" || len(got) != 9 {
		t.Errorf("%d edits; mismatch (-want +got):\n%s", len(got), diff)
	}
	for _, tt := range []struct {
		p    PTP
		dos  time.Time
		want bool
	}{
		{got[6], ymd(2025, 10, 31), true},
		{got[6], ymd(2025, 11, 1), false},
		{got[6], ymd(2024, 12, 31), false},
		{got[5], ymd(2020, 6, 1), false},
	} {
		if a := tt.p.Active(tt.dos); a != tt.want {
			t.Errorf("%s/%s Active(%s) = %v, want %v", tt.p.Column1, tt.p.Column2, tt.dos.Format(time.DateOnly), a, tt.want)
		}
	}
}

func TestReadCPT(t *testing.T) {
	in := "code\tdescription\n# comment\n\n99213\tDescriptor placeholder\n0002M,\"quoted, text\"\n0054T\n"
	var got []CPTRecord
	if err := ReadCPT(strings.NewReader(in), func(r CPTRecord) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []CPTRecord{
		{Code: "99213", Category: CPTCategoryI, Description: "Descriptor placeholder"},
		{Code: "0002M", Category: CPTMAAA, Description: "quoted, text"},
		{Code: "0054T", Category: CPTCategoryIII},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if err := ReadCPT(strings.NewReader("99213\nJ1885\n"), func(CPTRecord) error { return nil }); err == nil {
		t.Error("ReadCPT with a HCPCS code succeeded, want error")
	}
	n := 0
	if err := ReadCPT(openTestdata(t, "cpt_codes_only_extract.txt"), func(CPTRecord) error { n++; return nil }); err != nil || n != 20 {
		t.Errorf("extract: %d codes, err %v; want 20", n, err)
	}
}

func TestReadPOAExemptBundled(t *testing.T) {
	var got []POAExempt
	if err := ReadPOAExempt(bytes.NewReader(bundled(t, "POAexemptCodesFY26.txt")), func(p POAExempt) error { got = append(got, p); return nil }); err != nil {
		t.Fatal(err)
	}
	want := POAExempt{Order: "01238", Code: "B900", Title: "Sequelae of central nervous system tuberculosis"}
	if diff := cmp.Diff(want, got[0]); diff != "" || len(got) != 38349 {
		t.Errorf("%d codes, want 38349; mismatch (-want +got):\n%s", len(got), diff)
	}
}

func TestReadAddenda(t *testing.T) {
	tests := []struct {
		file string
		n    int
		pick []int
		want []Change
	}{
		{"icd10cm_order_addenda_2026_extract.txt", 7, []int{0, 1, 4, 5}, []Change{
			{Action: Delete, HasFlag: true, Billable: true, Code: "B880", Short: "Other acariasis", Long: "Other acariasis"},
			{Action: Add, HasFlag: true, Code: "B880", Short: "Other acariasis", Long: "Other acariasis"},
			{Action: ReviseFrom, HasFlag: true, Billable: true, Code: "L02212", Short: "Cutaneous abscess of back [any part, except buttock]",
				Long: "Cutaneous abscess of back [any part, except buttock]"},
			{Action: ReviseTo, HasFlag: true, Billable: true, Code: "L02212", Short: "Cutaneous abscess of back",
				Long: "Cutaneous abscess of back [any part, except buttock and flank]"},
		}},
		{"icd10pcs_order_addenda_2026_extract.txt", 5, []int{0, 4}, []Change{
			{Action: Add, Code: "00H033J", Short: "Insertion of Infusion Device into Brain, Temp, Perc Approach",
				Long: "Insertion of Infusion Device into Brain, Temporary, Percutaneous Approach"},
			{Action: Delete, Code: "X2A5312", Short: "Cereb Filtr, Brach L Carotid Art, Perc, New Tech 2",
				Long: "Cerebral Embolic Filtration, Dual Filter in Innominate Artery and Left Common Carotid Artery, Percutaneous Approach, New Technology Group 2"},
		}},
	}
	for _, tt := range tests {
		var all []Change
		if err := ReadAddenda(openTestdata(t, tt.file), func(c Change) error { all = append(all, c); return nil }); err != nil {
			t.Fatal(err)
		}
		var got []Change
		for _, i := range tt.pick {
			got = append(got, all[min(i, len(all)-1)])
		}
		if diff := cmp.Diff(tt.want, got); diff != "" || len(all) != tt.n {
			t.Errorf("%s: %d changes, want %d; mismatch (-want +got):\n%s", tt.file, len(all), tt.n, diff)
		}
	}
}
