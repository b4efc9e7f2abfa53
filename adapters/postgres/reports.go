package postgres

import (
	"context"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

var _ workitem.Reports = (*Store)(nil)

// rangeArgs turns a report range into [from, to+1 day) bounds; open bounds
// become NULL so the SQL can write (col >= $1 OR $1 IS NULL).
func rangeArgs(r workitem.ReportRange) (from, to any) {
	if !r.From.IsZero() {
		from = r.From.UTC()
	}
	if !r.To.IsZero() {
		to = r.To.UTC().AddDate(0, 0, 1)
	}
	return from, to
}

// Backlog answers items by status, and the open ones (neither completed nor
// cancelled) by whole days since discharge.
func (s *Store) Backlog(ctx context.Context) (r workitem.BacklogReport, err error) {
	defer workitem.Wrap(&err, "postgres.Backlog")
	now := s.now()
	r.AsOf, r.ByStatus = now, map[workitem.Status]int{}
	for _, st := range workitem.Statuses() {
		r.ByStatus[st] = 0
	}
	rows, err := s.db.QueryContext(ctx, `SELECT status, count(*) FROM work_items GROUP BY status`)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return r, err
		}
		r.ByStatus[workitem.Status(st)] = n
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	bounds := []struct {
		label    string
		min, max int
	}{{"0-3", 0, 3}, {"4-7", 4, 7}, {"8-14", 8, 14}, {"15-30", 15, 30}, {">30", 31, -1}}
	var counts [5]int
	err = s.db.QueryRowContext(ctx, `WITH open AS (
			SELECT greatest(0, ($1::timestamptz AT TIME ZONE 'UTC')::date - (coalesce(service_end, service_start, created_at) AT TIME ZONE 'UTC')::date) AS days
			  FROM work_items WHERE status NOT IN ('completed', 'cancelled'))
		SELECT count(*) FILTER (WHERE days <= 3), count(*) FILTER (WHERE days BETWEEN 4 AND 7),
		       count(*) FILTER (WHERE days BETWEEN 8 AND 14), count(*) FILTER (WHERE days BETWEEN 15 AND 30),
		       count(*) FILTER (WHERE days > 30) FROM open`, now).
		Scan(&counts[0], &counts[1], &counts[2], &counts[3], &counts[4])
	if err != nil {
		return r, err
	}
	for i, b := range bounds {
		ab := workitem.AgeBucket{Bucket: b.label, MinDay: b.min, Count: counts[i]}
		if b.max >= 0 {
			mx := b.max
			ab.MaxDay = &mx
		}
		r.ByAge = append(r.ByAge, ab)
		r.Open += counts[i]
	}
	r.DNFB = counts[4]
	return r, nil
}

// Productivity answers, per coder (the actor of each move to coded) and UTC
// day, the items coded and the service lines the coder submitted (the
// assignment kept for review, else the current one).
func (s *Store) Productivity(ctx context.Context, rg workitem.ReportRange) (r workitem.ProductivityReport, err error) {
	defer workitem.Wrap(&err, "postgres.Productivity")
	from, to := rangeArgs(rg)
	rows, err := s.db.QueryContext(ctx, `SELECT h.actor, to_char(h.at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*),
			coalesce(sum(jsonb_array_length(coalesce(w.coder_codes, w.codes) -> 'lines')), 0)
		  FROM work_item_history h JOIN work_items w ON w.id = h.work_item_id
		 WHERE h.to_status = 'coded' AND ($1::timestamptz IS NULL OR h.at >= $1) AND ($2::timestamptz IS NULL OR h.at < $2)
		 GROUP BY 1, 2 ORDER BY 1, 2`, from, to)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	r.Coders = []workitem.CoderProductivity{}
	for rows.Next() {
		var coder string
		var d workitem.CoderDay
		if err := rows.Scan(&coder, &d.Date, &d.Items, &d.Lines); err != nil {
			return r, err
		}
		if n := len(r.Coders); n == 0 || r.Coders[n-1].Coder != coder {
			r.Coders = append(r.Coders, workitem.CoderProductivity{Coder: coder})
		}
		c := &r.Coders[len(r.Coders)-1]
		c.Items, c.Lines, c.Days = c.Items+d.Items, c.Lines+d.Lines, append(c.Days, d)
	}
	for i := range r.Coders {
		c := &r.Coders[i]
		c.ItemsPerDay = round2(float64(c.Items) / float64(len(c.Days)))
		c.LinesPerDay = round2(float64(c.Lines) / float64(len(c.Days)))
	}
	if !rg.From.IsZero() {
		r.From = rg.From.Format(time.DateOnly)
	}
	if !rg.To.IsZero() {
		r.To = rg.To.Format(time.DateOnly)
	}
	return r, rows.Err()
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// Accuracy answers QA accuracy per coder over reviews in the range.
func (s *Store) Accuracy(ctx context.Context, rg workitem.ReportRange) (r workitem.AccuracyReport, err error) {
	defer workitem.Wrap(&err, "postgres.Accuracy")
	from, to := rangeArgs(rg)
	rows, err := s.db.QueryContext(ctx, `SELECT coder, count(*), count(*) FILTER (WHERE accurate),
			sum(diagnoses_added), sum(diagnoses_removed), sum(poa_changed), count(*) FILTER (WHERE resequenced),
			sum(lines_added), sum(lines_removed), sum(lines_changed), sum(procedures_added), sum(procedures_removed)
		  FROM qa_reviews WHERE ($1::timestamptz IS NULL OR reviewed_at >= $1) AND ($2::timestamptz IS NULL OR reviewed_at < $2)
		 GROUP BY coder ORDER BY coder`, from, to)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	r.Coders = []workitem.CoderAccuracy{}
	for rows.Next() {
		var c workitem.CoderAccuracy
		t := &c.QADiffTotals
		if err := rows.Scan(&c.Coder, &c.Reviewed, &c.Accurate, &t.DiagnosesAdded, &t.DiagnosesRemoved, &t.POAChanged, &t.Resequenced,
			&t.LinesAdded, &t.LinesRemoved, &t.LinesChanged, &t.ProceduresAdded, &t.ProceduresRemoved); err != nil {
			return r, err
		}
		if c.Reviewed > 0 {
			c.Rate = round2(float64(c.Accurate) / float64(c.Reviewed))
		}
		r.Coders = append(r.Coders, c)
	}
	return r, rows.Err()
}

// Queries answers physician-query counts and turnaround over queries asked
// in the range.
func (s *Store) Queries(ctx context.Context, rg workitem.ReportRange) (r workitem.QueryReport, err error) {
	defer workitem.Wrap(&err, "postgres.Queries")
	from, to := rangeArgs(rg)
	err = s.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'open'), count(answered_at),
			percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - asked_at) / 3600) FILTER (WHERE answered_at IS NOT NULL),
			percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - asked_at) / 3600) FILTER (WHERE answered_at IS NOT NULL)
		  FROM work_item_queries WHERE ($1::timestamptz IS NULL OR asked_at >= $1) AND ($2::timestamptz IS NULL OR asked_at < $2)`, from, to).
		Scan(&r.Count, &r.Open, &r.Answered, &r.MedianTurnaroundHours, &r.P90TurnaroundHours)
	if r.MedianTurnaroundHours != nil {
		*r.MedianTurnaroundHours = float64(int64(*r.MedianTurnaroundHours*1000+0.5)) / 1000
	}
	if r.P90TurnaroundHours != nil {
		*r.P90TurnaroundHours = float64(int64(*r.P90TurnaroundHours*1000+0.5)) / 1000
	}
	return r, err
}

// StraightThrough answers the share of completed items the auto coder coded
// (completed in the range, by the item's last update), and the
// straight-through coder's decisions in the range (by the time of each
// item's last decision) with the skipped charts per reason code.
func (s *Store) StraightThrough(ctx context.Context, rg workitem.ReportRange) (r workitem.StraightThroughReport, err error) {
	defer workitem.Wrap(&err, "postgres.StraightThrough")
	from, to := rangeArgs(rg)
	err = s.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE coded_by = 'auto') FROM work_items
		WHERE status = 'completed' AND ($1::timestamptz IS NULL OR updated_at >= $1) AND ($2::timestamptz IS NULL OR updated_at < $2)`, from, to).
		Scan(&r.Completed, &r.AutoCoded)
	if err != nil {
		return r, err
	}
	r.CoderCoded = r.Completed - r.AutoCoded
	if r.Completed > 0 {
		r.Rate = round2(float64(r.AutoCoded) / float64(r.Completed))
	}
	err = s.db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE autocode->>'decision' = 'coded'),
			count(*) FILTER (WHERE autocode->>'decision' = 'skipped') FROM work_items
		WHERE autocode IS NOT NULL AND ($1::timestamptz IS NULL OR autocode_at >= $1) AND ($2::timestamptz IS NULL OR autocode_at < $2)`, from, to).
		Scan(&r.Looked, &r.Passed, &r.Skipped)
	if err != nil {
		return r, err
	}
	if r.Looked > 0 {
		r.PassRate = round2(float64(r.Passed) / float64(r.Looked))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT reason, count(*) FROM (
			SELECT DISTINCT w.id, x->>'code' AS reason FROM work_items w, jsonb_array_elements(w.autocode->'reasons') x
			 WHERE w.autocode->>'decision' = 'skipped' AND ($1::timestamptz IS NULL OR w.autocode_at >= $1) AND ($2::timestamptz IS NULL OR w.autocode_at < $2)) r
		GROUP BY reason ORDER BY count(*) DESC, reason`, from, to)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	r.Reasons = []workitem.ReasonCount{}
	for rows.Next() {
		var rc workitem.ReasonCount
		if err := rows.Scan(&rc.Code, &rc.Count); err != nil {
			return r, err
		}
		r.Reasons = append(r.Reasons, rc)
	}
	return r, rows.Err()
}
