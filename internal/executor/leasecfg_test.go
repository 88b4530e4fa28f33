package executor_test

import (
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/executor"
)

// TestLeaseOutlastsTheDriver: a lease that could lapse while the
// driver's call still runs is refused at start, naming the settings.
func TestLeaseOutlastsTheDriver(t *testing.T) {
	for _, tc := range []struct {
		name  string
		set   func(*executor.Config)
		error string // "": valid
	}{
		{"defaults, command", func(c *executor.Config) { c.Driver = executor.DriverCommand }, ""},
		{"defaults, webhook", func(c *executor.Config) { c.Driver = executor.DriverWebhook }, ""},
		{"command timeout at the lease", func(c *executor.Config) {
			c.Driver, c.Command.Timeout, c.Lease = executor.DriverCommand, 30*time.Second, 30*time.Second
		}, "raise -executor.lease to at least 36s"},
		{"command timeout just below", func(c *executor.Config) {
			c.Driver, c.Command.Timeout, c.Lease = executor.DriverCommand, 24*time.Second, 30*time.Second
		}, ""},
		{"webhook total timeout within the margin", func(c *executor.Config) {
			c.Driver, c.Webhook.TotalTimeout, c.Lease = executor.DriverWebhook, 58*time.Second, time.Minute
		}, "executor.webhook.total-timeout"},
		{"lease too short", func(c *executor.Config) { c.Lease = time.Second }, "executor.lease 1s: want at least 2s"},
		{"sim: no driver to outlast", func(c *executor.Config) { c.Lease = 2 * time.Second }, ""},
		// The server truncates a key's time to live to whole seconds: a
		// lease of 36.9s would lapse after 36s, inside the margin.
		{"lease not in whole seconds", func(c *executor.Config) {
			c.Driver, c.Webhook.TotalTimeout, c.Lease = executor.DriverWebhook, 31*time.Second, 36900*time.Millisecond
		}, "executor.lease 36.9s: want whole seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := executor.DefaultConfig()
			c.Command.Template = "kubectl scale deployment/{tier} --replicas={replicas}"
			c.Webhook.URL = "https://hooks.example.com/scale"
			tc.set(&c)
			err := c.Validate()
			switch {
			case tc.error == "" && err != nil:
				t.Errorf("Validate: %v, want nil", err)
			case tc.error != "" && (err == nil || !strings.Contains(err.Error(), tc.error)):
				t.Errorf("Validate: %v, want an error with %q", err, tc.error)
			}
		})
	}
}
