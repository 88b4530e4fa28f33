package allinone

// SetBuildHook makes Run call hook before each start step: "nats" before
// the embedded server starts, then each part by name before it is built,
// with where the system listens. The step waits for hook, and fails with
// its error.
func SetBuildHook(c *Config, hook func(step string, sys System) error) { c.buildHook = hook }

// SetNATSWaiting makes Run call waiting while the embedded NATS server is
// started but does not yet accept connections, after each slice of that
// wait.
func SetNATSWaiting(c *Config, waiting func()) { c.natsWaiting = waiting }
