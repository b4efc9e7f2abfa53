package workitem

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompareAssignments(t *testing.T) {
	dx := func(codes ...string) []AssignedDiagnosis {
		out := make([]AssignedDiagnosis, len(codes))
		for i, c := range codes {
			out[i] = AssignedDiagnosis{Code: c, POA: "Y"}
		}
		return out
	}
	line := func(code string, units int, mods []string, ptrs ...int) AssignedLine {
		return AssignedLine{Code: code, Units: units, Modifiers: mods, Diagnoses: ptrs}
	}
	base := Assignment{
		Diagnoses:  dx("J18.9", "E11.9", "I10"),
		Lines:      []AssignedLine{line("99223", 1, nil, 1, 2), line("71046", 1, []string{"26"}, 1)},
		Procedures: []AssignedProcedure{{Code: "0BH17EZ"}},
	}
	tests := []struct {
		name         string
		coder, final Assignment
		want         QADiff
	}{
		{name: "identical", coder: base, final: base, want: QADiff{}},
		{name: "both empty", want: QADiff{}},
		{
			name:  "diagnosis added and removed",
			coder: Assignment{Diagnoses: dx("J18.9", "E11.9")},
			final: Assignment{Diagnoses: dx("J18.9", "I10")},
			want:  QADiff{DiagnosesAdded: 1, DiagnosesRemoved: 1},
		},
		{
			name:  "POA changed",
			coder: Assignment{Diagnoses: dx("J18.9", "E11.9")},
			final: Assignment{Diagnoses: []AssignedDiagnosis{{Code: "J18.9", POA: "Y"}, {Code: "E11.9", POA: "N"}}},
			want:  QADiff{POAChanged: 1},
		},
		{
			name:  "principal changed",
			coder: Assignment{Diagnoses: dx("J18.9", "E11.9")},
			final: Assignment{Diagnoses: dx("E11.9", "J18.9")},
			want:  QADiff{Resequenced: true},
		},
		{
			name:  "secondary diagnoses reordered",
			coder: Assignment{Diagnoses: dx("J18.9", "E11.9", "I10")},
			final: Assignment{Diagnoses: dx("J18.9", "I10", "E11.9")},
			want:  QADiff{Resequenced: true},
		},
		{
			name:  "new principal added before the kept ones",
			coder: Assignment{Diagnoses: dx("E11.9", "I10")},
			final: Assignment{Diagnoses: dx("J18.9", "E11.9", "I10")},
			want:  QADiff{DiagnosesAdded: 1, Resequenced: true},
		},
		{
			name:  "secondary removed keeps the order",
			coder: Assignment{Diagnoses: dx("J18.9", "E11.9", "I10")},
			final: Assignment{Diagnoses: dx("J18.9", "I10")},
			want:  QADiff{DiagnosesRemoved: 1},
		},
		{
			name:  "line added and removed",
			coder: Assignment{Lines: []AssignedLine{line("99223", 1, nil)}},
			final: Assignment{Lines: []AssignedLine{line("99222", 1, nil)}},
			want:  QADiff{LinesAdded: 1, LinesRemoved: 1},
		},
		{
			name:  "units changed",
			coder: Assignment{Lines: []AssignedLine{line("96372", 1, nil)}},
			final: Assignment{Lines: []AssignedLine{line("96372", 2, nil)}},
			want:  QADiff{LinesChanged: 1},
		},
		{
			name:  "modifiers compared as a set",
			coder: Assignment{Lines: []AssignedLine{line("20610", 1, []string{"RT", "59"})}},
			final: Assignment{Lines: []AssignedLine{line("20610", 1, []string{"59", "RT"})}},
			want:  QADiff{},
		},
		{
			name:  "modifier added",
			coder: Assignment{Lines: []AssignedLine{line("20610", 1, []string{"RT"})}},
			final: Assignment{Lines: []AssignedLine{line("20610", 1, []string{"RT", "59"})}},
			want:  QADiff{LinesChanged: 1},
		},
		{
			name:  "pointers renumbered to the same codes",
			coder: Assignment{Diagnoses: dx("J18.9", "E11.9"), Lines: []AssignedLine{line("99223", 1, nil, 2)}},
			final: Assignment{Diagnoses: dx("J18.9", "I10", "E11.9"), Lines: []AssignedLine{line("99223", 1, nil, 3)}},
			want:  QADiff{DiagnosesAdded: 1},
		},
		{
			name:  "pointer to another code",
			coder: Assignment{Diagnoses: dx("J18.9", "E11.9"), Lines: []AssignedLine{line("99223", 1, nil, 1)}},
			final: Assignment{Diagnoses: dx("J18.9", "E11.9"), Lines: []AssignedLine{line("99223", 1, nil, 2)}},
			want:  QADiff{LinesChanged: 1},
		},
		{
			name:  "pointer out of range names no code",
			coder: Assignment{Diagnoses: dx("J18.9"), Lines: []AssignedLine{line("99223", 1, nil, 1)}},
			final: Assignment{Diagnoses: dx("J18.9"), Lines: []AssignedLine{line("99223", 1, nil, 5)}},
			want:  QADiff{LinesChanged: 1},
		},
		{
			name:  "repeated code pairs in order",
			coder: Assignment{Lines: []AssignedLine{line("96372", 1, nil), line("96372", 2, nil)}},
			final: Assignment{Lines: []AssignedLine{line("96372", 1, nil), line("96372", 2, nil), line("96372", 3, nil)}},
			want:  QADiff{LinesAdded: 1},
		},
		{
			name:  "repeated code, second one changed",
			coder: Assignment{Lines: []AssignedLine{line("96372", 1, nil), line("96372", 2, nil)}},
			final: Assignment{Lines: []AssignedLine{line("96372", 1, nil), line("96372", 4, nil)}},
			want:  QADiff{LinesChanged: 1},
		},
		{
			name:  "repeated code, one removed",
			coder: Assignment{Lines: []AssignedLine{line("96372", 1, nil), line("96372", 1, nil)}},
			final: Assignment{Lines: []AssignedLine{line("96372", 1, nil)}},
			want:  QADiff{LinesRemoved: 1},
		},
		{
			name:  "procedures added and removed",
			coder: Assignment{Procedures: []AssignedProcedure{{Code: "0BH17EZ"}, {Code: "5A1955Z"}}},
			final: Assignment{Procedures: []AssignedProcedure{{Code: "0BH17EZ"}, {Code: "5A1945Z"}, {Code: "02HV33Z"}}},
			want:  QADiff{ProceduresAdded: 2, ProceduresRemoved: 1},
		},
		{
			name:  "procedure date alone is no change",
			coder: Assignment{Procedures: []AssignedProcedure{{Code: "0BH17EZ", Date: "2026-01-02"}}},
			final: Assignment{Procedures: []AssignedProcedure{{Code: "0BH17EZ", Date: "2026-01-03"}}},
			want:  QADiff{},
		},
		{
			name:  "auditor cleared everything",
			coder: base,
			final: Assignment{},
			want:  QADiff{DiagnosesRemoved: 3, LinesRemoved: 2, ProceduresRemoved: 1},
		},
		{
			name:  "coder left it empty",
			coder: Assignment{},
			final: base,
			want:  QADiff{DiagnosesAdded: 3, LinesAdded: 2, ProceduresAdded: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CompareAssignments(tt.coder, tt.final)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CompareAssignments mismatch (-want +got):\n%s", diff)
			}
			if got.Accurate() != (tt.want == QADiff{}) {
				t.Errorf("Accurate() = %v, want %v", got.Accurate(), tt.want == QADiff{})
			}
		})
	}
}
