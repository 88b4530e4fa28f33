// Package poll waits in tests for a condition to become true, with a
// deadline, instead of sleeping a fixed time. It imports nothing but the
// standard library, so a test that needs only this stays light to build.
package poll

import (
	"testing"
	"time"
)

// Until polls cond every 10ms until it returns nil or timeout passes, then
// fails the test with cond's last error.
func Until(tb testing.TB, timeout time.Duration, cond func() error) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("not true after %v: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
