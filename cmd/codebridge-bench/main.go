// Command codebridge-bench loads a running codebridge with synthetic
// visits and reports throughput, latency, end-to-end Kafka latency and
// this machine's bounds; `codebridge-bench compare` prints the changes
// between two of its JSON reports.
//
// It is a binary of its own so that the service binary (cmd/codebridge)
// carries no benchmark code; the harness is package bench, which the
// end-to-end tests of cmd/codebridge also run.
//
// main is thin: it turns signals into context cancellation and errors into
// the exit code; the command is built by newRootCmd (command.go).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/codebridge/codebridge/cmd/codebridge-bench/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal now ends the process at once
	}()
	if err := newRootCmd(os.Getenv, os.Stdout, os.Stderr, bench.Run).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "codebridge-bench:", err)
		os.Exit(1)
	}
}
