package hl7v2

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// raws lists the Raw text of each repetition.
func raws(reps []Rep) []string {
	var out []string
	for _, r := range reps {
		out = append(out, r.Raw())
	}
	return out
}

func TestSegmentAccessors(t *testing.T) {
	m := mustParse(t, join(
		stdMSH,
		`PID|1||ID1^^^AUTH&1.2.3&ISO^MR~ID2^^^AUTH2^MB||FAM\T\CO^GIV^^^DR||19800101|""|||A&B^C\S\D`,
		"OBX|1|ST|CODE||v1",
		"OBX|2|ST|CODE||v2~v3",
		"ZZ1",
		"ZZ2|",
	))
	pid, obx := m.First("PID"), m.All("OBX")
	msh := m.First("MSH")
	tests := []struct {
		name      string
		got, want any
	}{
		{"segment names", names(m), []string{"MSH", "PID", "OBX", "OBX", "ZZ1", "ZZ2"}},
		{"First absent", m.First("NTE") == nil, true},
		{"All absent", len(m.All("NTE")), 0},
		{"All OBX", len(obx), 2},
		{"Index", []int{pid.Index(), obx[0].Index(), obx[1].Index()}, []int{1, 2, 3}},
		{"Seq", []int{msh.Seq(), pid.Seq(), obx[0].Seq(), obx[1].Seq()}, []int{1, 1, 1, 2}},
		{"Fields", []int{msh.Fields(), pid.Fields(), m.First("ZZ1").Fields(), m.First("ZZ2").Fields()}, []int{12, 11, 0, 1}},
		{"MSH-1 literal", msh.Field(1).String(), "|"},
		{"MSH-2 literal", msh.Field(2).String(), `^~\&`},
		{"MSH-2 one repetition", raws(msh.Field(2).Reps()), []string{`^~\&`}},
		{"MSH-2 one component", []int{msh.Field(2).Rep(0).Comps(), msh.Field(2).Rep(0).Subs(1), msh.Field(2).Rep(0).Subs(2)}, []int{1, 1, 0}},
		{"MSH-2 rep 1 absent", msh.Field(2).Rep(1).Raw(), ""},
		{"MSH-2 component 2 absent", []string{msh.Value(2, 2), msh.Field(2).Rep(0).Sub(1, 2)}, []string{"", ""}},
		{"MSH-9 components", []string{msh.Value(9, 1), msh.Value(9, 2), msh.Value(9, 3), msh.Value(9, 4)}, []string{"ADT", "A01", "ADT_A01", ""}},
		{"field 0 and negative", []bool{pid.Field(0).Empty(), pid.Field(-1).Empty()}, []bool{true, true}},
		{"field past the end", []bool{pid.Field(12).Empty(), pid.Field(1000).Empty()}, []bool{true, true}},
		{"empty field present", []bool{pid.Field(2).Empty(), pid.Field(2).Reps() == nil}, []bool{true, true}},
		{"repetitions", raws(pid.Field(3).Reps()), []string{"ID1^^^AUTH&1.2.3&ISO^MR", "ID2^^^AUTH2^MB"}},
		{"Rep by index", []string{pid.Field(3).Rep(0).Comp(1), pid.Field(3).Rep(1).Comp(1), pid.Field(3).Rep(2).Comp(1), pid.Field(3).Rep(-1).Comp(1)}, []string{"ID1", "ID2", "", ""}},
		{"components", []string{pid.Value(3, 1), pid.Value(3, 2), pid.Value(3, 4), pid.Value(3, 5), pid.Value(3, 6), pid.Value(3, 0)}, []string{"ID1", "", "AUTH", "MR", "", ""}},
		{"Comps", []int{pid.Field(3).Rep(0).Comps(), pid.Field(3).Rep(1).Comps(), pid.Field(2).Rep(0).Comps()}, []int{5, 5, 0}},
		{"subcomponents", []string{pid.Field(3).Rep(0).Sub(4, 1), pid.Field(3).Rep(0).Sub(4, 2), pid.Field(3).Rep(0).Sub(4, 3), pid.Field(3).Rep(0).Sub(4, 4), pid.Field(3).Rep(0).Sub(4, 0)}, []string{"AUTH", "1.2.3", "ISO", "", ""}},
		{"Subs", []int{pid.Field(3).Rep(0).Subs(4), pid.Field(3).Rep(0).Subs(1), pid.Field(3).Rep(0).Subs(2), pid.Field(3).Rep(0).Subs(9), pid.Field(3).Rep(0).Subs(0)}, []int{3, 1, 0, 0, 0}},
		{"unescaped on read", []string{pid.Value(5, 1), pid.Field(5).Raw()}, []string{"FAM&CO", `FAM\T\CO^GIV^^^DR`}},
		{"String is first rep, comp, sub", []string{pid.Field(3).String(), pid.Field(11).String()}, []string{"ID1", "A"}},
		{"escaped component separator stays in its component", []string{pid.Value(11, 2), pid.Value(11, 3)}, []string{"C^D", ""}},
		{"explicit null", []any{pid.Field(8).IsNull(), pid.Field(8).String(), pid.Field(8).Empty(), pid.Field(7).IsNull()}, []any{true, Null, false, false}},
		{"Get field", []string{pid.Get("3"), pid.Get("7")}, []string{"ID1", "19800101"}},
		{"Get component", []string{pid.Get("3.4"), pid.Get("5.5"), msh.Get("9.2")}, []string{"AUTH", "DR", "A01"}},
		{"Get subcomponent", []string{pid.Get("3.4.2"), pid.Get("11.1.2"), pid.Get("11.1.3")}, []string{"1.2.3", "B", ""}},
		{"Get malformed", []string{pid.Get(""), pid.Get("a"), pid.Get("3."), pid.Get(".3"), pid.Get("0"), pid.Get("3.0"), pid.Get("-3"), pid.Get("3.4.2.1"), pid.Get("3,4")}, []string{"", "", "", "", "", "", "", "", ""}},
		{"second OBX repetitions", raws(obx[1].Field(5).Reps()), []string{"v2", "v3"}},
		{"zero Field", []any{Field{}.Empty(), Field{}.String(), Field{}.Reps() == nil, Field{}.Rep(0).Comps(), Field{}.Rep(0).Sub(1, 1)}, []any{true, "", true, 0, ""}},
		{"nil Segment from First", []any{m.First("PV1").Name(), m.First("PV1").Index(), m.First("PV1").Seq(), m.First("PV1").Fields(), m.First("PV1").Get("19"), m.First("PV1").Value(19, 1), m.First("PV1").Field(19).Empty()}, []any{"", -1, 0, 0, "", "", true}},
		{"zero Rep", []any{Rep{}.Comp(1), Rep{}.Comps(), Rep{}.Subs(1), Rep{}.Raw()}, []any{"", 0, 0, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHeader(t *testing.T) {
	m := mustParse(t, []byte(`MSH|^~\&|APP^1.2.3^ISO|FAC\T\1|RAPP|RFAC|20250314083000.123-0500|SEC|ADT^A08^ADT_A01^x|ID\F\9|T^A|2.6^USA|||AL|ER||8859/1~ISO IR87`))
	want := Header{
		SendingApp: "APP", SendingFacility: "FAC&1", ReceivingApp: "RAPP", ReceivingFacility: "RFAC",
		Time: "20250314083000.123-0500", Type: "ADT", Trigger: "A08", Structure: "ADT_A01", ControlID: "ID|9",
		ProcessingID: "T", Version: "2.6", AcceptAck: "AL", AppAck: "ER", Charset: "8859/1",
	}
	if diff := cmp.Diff(want, m.Header()); diff != "" {
		t.Errorf("Header mismatch (-want +got):\n%s", diff)
	}
	if !m.Header().Enhanced() {
		t.Error("Enhanced() = false with MSH-15/16 set")
	}
	if mustParse(t, []byte(stdMSH)).Header().Enhanced() {
		t.Error("Enhanced() = true without MSH-15/16")
	}
}
