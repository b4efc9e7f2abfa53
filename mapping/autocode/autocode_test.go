package autocode_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/autocode"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// fakeStore answers AutoCodeBatch from a script, one entry per call, and
// ends the run (cancel) once the script is used up.
type fakeStore struct {
	mu     sync.Mutex
	script []result
	calls  []call
	cancel context.CancelFunc
	// onCall, when set, runs at each call (before answering).
	onCall func(n int)
}

type result struct {
	n   workitem.AutoCounts
	err error
}

type call struct {
	QARate float64
	Max    int
}

func (f *fakeStore) AutoCodeBatch(_ context.Context, qaRate float64, max int) (workitem.AutoCounts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{QARate: qaRate, Max: max})
	if f.onCall != nil {
		f.onCall(len(f.calls))
	}
	if len(f.calls) > len(f.script) {
		f.cancel()
		return workitem.AutoCounts{}, nil
	}
	r := f.script[len(f.calls)-1]
	return r.n, r.err
}

func TestCoderRun(t *testing.T) {
	down := workitem.Errorf(workitem.Transient, "database unavailable")
	tests := []struct {
		name   string
		script []result
		o      autocode.Options
		// wantCalls is how many batches run (the script, then the one that ends the run).
		wantCalls   int
		wantCounted workitem.AutoCounts
		wantLogs    []string
	}{
		{
			name:        "full batches follow each other at once",
			script:      []result{{n: workitem.AutoCounts{Coded: 2, Skipped: 2}}, {n: workitem.AutoCounts{Skipped: 4}}},
			o:           autocode.Options{Batch: 4, Idle: time.Hour, QASampleRate: 0.25},
			wantCalls:   3,
			wantCounted: workitem.AutoCounts{Coded: 2, Skipped: 6},
		},
		{
			name:        "a failed batch is logged and retried",
			script:      []result{{err: down}, {err: down}, {n: workitem.AutoCounts{Coded: 1}}},
			o:           autocode.Options{Batch: 1, Idle: time.Millisecond, QASampleRate: 0.25},
			wantCalls:   4,
			wantCounted: workitem.AutoCounts{Coded: 1},
			wantLogs:    []string{"auto-coding failed", "auto-coding failed"},
		},
		{
			name:        "an item that failed is counted and warned of",
			script:      []result{{n: workitem.AutoCounts{Coded: 1, Failed: 1}}},
			o:           autocode.Options{Batch: 2, Idle: time.Hour, QASampleRate: 0.25},
			wantCalls:   2,
			wantCounted: workitem.AutoCounts{Coded: 1, Failed: 1},
			wantLogs:    []string{"auto-coding failed on a work item; it is left for a coder with the error noted"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			f := &fakeStore{script: tt.script, cancel: cancel}
			var logs bytes.Buffer
			var counted workitem.AutoCounts
			tt.o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			tt.o.Counted = func(n workitem.AutoCounts) {
				counted.Coded, counted.Skipped, counted.Failed = counted.Coded+n.Coded, counted.Skipped+n.Skipped, counted.Failed+n.Failed
			}
			autocode.New(f, tt.o).Run(ctx)
			if ctx.Err() == context.DeadlineExceeded {
				t.Fatal("the coder waited its idle interval after a full batch")
			}
			wantCalls := make([]call, tt.wantCalls)
			for i := range wantCalls {
				wantCalls[i] = call{QARate: tt.o.QASampleRate, Max: tt.o.Batch}
			}
			if diff := cmp.Diff(wantCalls, f.calls); diff != "" {
				t.Errorf("batches mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCounted, counted); diff != "" {
				t.Errorf("counted mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLogs, logMessages(logs.String())); diff != "" {
				t.Errorf("logs mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCoderWake: after a batch that drained the queue the coder waits its
// idle interval, unless the store's wake ends the wait; it then looks again.
func TestCoderWake(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wake := make(chan struct{}, 1)
	f := &fakeStore{script: []result{{n: workitem.AutoCounts{Skipped: 1}}}, cancel: cancel}
	f.onCall = func(n int) {
		if n == 1 {
			wake <- struct{}{} // a write committed while the batch ran
		}
	}
	autocode.New(f, autocode.Options{Idle: time.Hour, Wake: wake}).Run(ctx)
	if ctx.Err() == context.DeadlineExceeded || len(f.calls) != 2 {
		t.Fatalf("%d batches (%v); want a second batch once woken, not after the idle hour", len(f.calls), ctx.Err())
	}
	if f.calls[0].Max != autocode.DefaultBatch {
		t.Errorf("batch size %d, want the default %d", f.calls[0].Max, autocode.DefaultBatch)
	}
}

// TestCoderStopsWithContext: a coder whose context ends returns, even
// mid-wait, and logs no failure for the batch its end cut short.
func TestCoderStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	f := &fakeStore{cancel: cancel}
	f.script = []result{{err: errors.New("cancelled under the batch")}}
	f.onCall = func(int) { cancel() }
	done := make(chan struct{})
	go func() {
		autocode.New(f, autocode.Options{Idle: time.Hour, Logger: slog.New(slog.NewTextHandler(&logs, nil))}).Run(ctx)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the coder did not stop when its context ended")
	}
	if logs.Len() != 0 {
		t.Errorf("logged %q for a batch cut short by the end of the context", logs.String())
	}
}

// logMessages lists the msg= values of text log lines.
func logMessages(s string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if _, rest, ok := strings.Cut(line, `msg="`); ok {
			msg, _, _ := strings.Cut(rest, `"`)
			out = append(out, msg)
		}
	}
	return out
}
