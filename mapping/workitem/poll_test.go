package workitem_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

func TestPoll(t *testing.T) {
	tests := []struct {
		name    string
		results []int // a round's count; -1 is a failure
		o       workitem.PollOptions
		// wantErrs is how many failures OnError hears of.
		wantErrs int
	}{
		{name: "busy rounds run back to back", results: []int{5, 5, 5}, o: workitem.PollOptions{Idle: time.Hour, Full: 5}},
		{name: "failures back off and are reported", results: []int{-1, -1, 1}, o: workitem.PollOptions{Idle: time.Millisecond, MaxBackoff: 3 * time.Millisecond}, wantErrs: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			errs, rounds := 0, 0
			tt.o.OnError = func(error) { errs++ }
			workitem.Poll(ctx, tt.o, func(context.Context) (int, error) {
				if rounds == len(tt.results) {
					cancel()
					return 0, nil
				}
				r := tt.results[rounds]
				rounds++
				if r < 0 {
					return 0, errors.New("database down")
				}
				return r, nil
			})
			if rounds != len(tt.results) || errs != tt.wantErrs {
				t.Errorf("rounds %d errors %d, want %d and %d", rounds, errs, len(tt.results), tt.wantErrs)
			}
			if ctx.Err() == context.DeadlineExceeded {
				t.Errorf("Poll waited an idle interval after a full round")
			}
		})
	}
}

func TestPollWakeEndsIdleWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wake := make(chan struct{}, 1)
	rounds := 0
	workitem.Poll(ctx, workitem.PollOptions{Idle: time.Hour, Wake: wake}, func(context.Context) (int, error) {
		rounds++
		if rounds == 2 {
			cancel()
		}
		wake <- struct{}{} // work committed: the idle wait after this round ends at once
		return 0, nil
	})
	if rounds != 2 {
		t.Fatalf("rounds = %d, want 2 (the wake ended the hour-long idle wait)", rounds)
	}
}

func TestPollEveryRunsEachRound(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rounds, swept := 0, 0
	workitem.Poll(ctx, workitem.PollOptions{Idle: time.Millisecond, Every: func(context.Context) { swept++ }}, func(context.Context) (int, error) {
		rounds++
		if rounds == 3 {
			cancel()
		}
		return 1, nil
	})
	if swept != 2 { // the third round ended ctx: no housekeeping after it
		t.Fatalf("Every ran %d times, want 2", swept)
	}
}
