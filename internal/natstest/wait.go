package natstest

import (
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/poll"
)

// Eventually polls cond every 10ms until it returns nil or timeout passes,
// then fails the test with cond's last error (poll.Until). It is how tests
// wait on events without sleeping a fixed time.
func Eventually(tb testing.TB, timeout time.Duration, cond func() error) {
	tb.Helper()
	poll.Until(tb, timeout, cond)
}
