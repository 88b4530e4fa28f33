package natstest

import (
	"testing"
	"time"
)

// Eventually polls cond every 10ms until it returns nil or timeout passes,
// then fails the test with cond's last error. It is how tests wait on events
// without sleeping a fixed time.
func Eventually(tb testing.TB, timeout time.Duration, cond func() error) {
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
