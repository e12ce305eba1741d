// Command conclab serves Concurrency Lab, a course on concurrency
// fundamentals whose lessons run real experiments on this machine.
//
//	conclab [serve] [--addr 127.0.0.1:8080]   serve the course
//	conclab list [--json]                     list the experiments
//	conclab run <id> [--set k=v]... [--quick] [--json]
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}
