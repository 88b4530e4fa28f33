package natstest

import (
	"context"
	"sync"
	"testing"
)

// Serve runs run in its own goroutine, as a service's own process would run
// it, until the returned stop is called or the test ends. stop cancels
// run's context, waits for run to return and fails the test if it returned
// an error (named by name); calling it again does nothing.
func Serve(tb testing.TB, name string, run func(context.Context) error) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("%s: %v", name, err)
		}
	})
	tb.Cleanup(stop)
	return stop
}
