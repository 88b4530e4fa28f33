package executor_test

import (
	"time"

	"github.com/headroomhq/headroom/internal/executor"
)

// raceLease gives cfg the lease of the race tests: above their drivers'
// 20s timeouts by the required margin.
func raceLease(cfg executor.Config) executor.Config {
	cfg.Lease = 30 * time.Second
	return cfg
}
