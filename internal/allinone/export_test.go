package allinone

// SetBuildHook makes Run call hook before each start step: "nats" before
// the embedded server starts, then each part by name before it is built,
// with where the system listens. The step waits for hook, and fails with
// its error. After a failed step, Run calls hook with "failed" once the
// buses and NATS have closed, before the listeners close.
func SetBuildHook(c *Config, hook func(step string, sys System) error) { c.buildHook = hook }

// BuildHook returns c's build hook (SetBuildHook), nil if none.
func BuildHook(c Config) func(step string, sys System) error { return c.buildHook }

// FreeDisk is freeDisk: the bytes free on the disk holding dir.
func FreeDisk(dir string) (int64, bool) { return freeDisk(dir) }
