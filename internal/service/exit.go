package service

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/headroomhq/headroom/internal/cli"
)

// RunFunc is a command's body: it runs until ctx ends and returns why it stopped.
type RunFunc func(ctx context.Context, args []string, getenv cli.Getenv) error

// Exit is a command's whole main: a context that ends on SIGINT or SIGTERM,
// run with the process's arguments and environment, and exit status 1 with
// the error on stderr when run fails. Signals are handled here only.
func Exit(name string, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
