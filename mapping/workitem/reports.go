package workitem

import "context"

// Reports is what the supervisor reports read of the store: the JSON
// reports under /api/v1/reports and the workbench dashboard. The report
// types are in qa.go.
//
// Every method returns Transient when the database is unreachable and
// Internal for anything unexpected.
type Reports interface {
	// Backlog answers items by status and the open ones by age.
	Backlog(ctx context.Context) (BacklogReport, error)
	// Productivity answers charts and lines coded per coder and day.
	Productivity(ctx context.Context, r ReportRange) (ProductivityReport, error)
	// Accuracy answers QA accuracy per coder.
	Accuracy(ctx context.Context, r ReportRange) (AccuracyReport, error)
	// Queries answers physician-query volume and turnaround.
	Queries(ctx context.Context, r ReportRange) (QueryReport, error)
	// StraightThrough answers the share of charts coded automatically.
	StraightThrough(ctx context.Context, r ReportRange) (StraightThroughReport, error)
}
