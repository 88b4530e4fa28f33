// Package servicetest holds what the tests of the standalone services'
// mains (services/<name>) share.
package servicetest

import (
	"context"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/cli"
)

// Run is a service's main body: services/<name>'s run.
type Run func(ctx context.Context, args []string, getenv cli.Getenv) error

// StartError runs run with args (and no environment) against a NATS URL
// that never answers, and returns the error its start fails with. A start
// that has not failed within 3 s fails the test: the service waits for
// NATS instead of refusing its settings first.
func StartError(t testing.TB, run Run, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	all := append([]string{"-nats.url", "nats://127.0.0.1:1", "-http.addr", "127.0.0.1:0"}, args...)
	done := make(chan error, 1)
	go func() { done <- run(ctx, all, func(string) string { return "" }) }()
	select {
	case err := <-done:
		return err
	case <-time.After(3 * time.Second):
		t.Fatalf("%v did not fail the start at once: the service waits for NATS", args)
		return nil
	}
}
