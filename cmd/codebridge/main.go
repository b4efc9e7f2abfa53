// Command codebridge is the integration hub between EHRs and medical coding:
// it takes FHIR R4 encounters in, runs the coders' work queue, and issues
// FHIR Claims out, streaming every status change to Kafka.
//
// main is thin: it turns signals into context cancellation and errors into
// the exit code; everything else is in Main (run.go), which end-to-end tests
// drive directly on 127.0.0.1:0.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal now ends the process at once
	}()
	if err := newRootCmd(os.Getenv, os.Stdout, os.Stderr).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "codebridge:", err)
		os.Exit(1)
	}
}
