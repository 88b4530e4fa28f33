package executor

import (
	"fmt"
	"strings"
	"time"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/proto"
)

// Modes of acting on an app's decisions.
const (
	ModeLive   = "live"    // the driver acts
	ModeDryRun = "dry-run" // decide and log, never act
	ModeShadow = "shadow"  // act on a simulated cluster only, whatever the driver
)

// Config configures the executor.
type Config struct {
	// Driver is the default driver: "sim" (more come with the drivers issue).
	Driver string
	// Modes maps an app to its mode; apps not listed are live.
	Modes map[string]string
	// BootDelays is the simulated boot delay per tier; DefaultBootDelay otherwise.
	BootDelays       map[string]time.Duration
	DefaultBootDelay time.Duration
	// FailureRate is the simulated probability a booting replica fails.
	FailureRate float64
	// Seed makes simulated failures deterministic.
	Seed int64
}

// DefaultConfig returns a simulated driver whose boot delays match the
// default policy's lead times (web 1m, cache 3m, db 10m).
func DefaultConfig() Config {
	return Config{
		Driver:           "sim",
		Modes:            map[string]string{},
		BootDelays:       map[string]time.Duration{"web": time.Minute, "cache": 3 * time.Minute, "db": 10 * time.Minute},
		DefaultBootDelay: 2 * time.Minute,
		Seed:             1,
	}
}

// RegisterFlags adds the executor.* flags.
func (c *Config) RegisterFlags(f *cli.Flags) {
	d := DefaultConfig()
	f.String(&c.Driver, "executor.driver", d.Driver, "driver acting on decisions: sim")
	f.Float(&c.FailureRate, "executor.sim.failure-rate", 0, "probability a simulated replica fails to boot")
	f.Int64(&c.Seed, "executor.sim.seed", d.Seed, "seed of simulated failures")
	f.Duration(&c.DefaultBootDelay, "executor.sim.boot-delay", d.DefaultBootDelay, "simulated boot delay of tiers not listed in -executor.sim.boot-delays")
	f.FS.Func("executor.sim.boot-delays", "simulated boot delay per tier, e.g. web=1m,cache=3m,db=10m (env "+cli.EnvName("executor.sim.boot-delays")+")", func(s string) error {
		m, err := parseDelays(s)
		if err != nil {
			return err
		}
		c.BootDelays = m
		return nil
	})
	f.FS.Func("executor.modes", "mode per app: app=live|dry-run|shadow, comma-separated (env "+cli.EnvName("executor.modes")+")", func(s string) error {
		m, err := ParseModes(s)
		if err != nil {
			return err
		}
		c.Modes = m
		return nil
	})
}

func parseDelays(s string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, fmt.Errorf("%q: want tier=duration", kv)
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%q: bad duration", kv)
		}
		out[k] = d
	}
	return out, nil
}

// ParseModes parses "app=mode,app=mode".
func ParseModes(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		app, mode, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, fmt.Errorf("%q: want app=mode", kv)
		}
		if err := proto.CheckToken("app", app); err != nil {
			return nil, err
		}
		switch mode {
		case ModeLive, ModeDryRun, ModeShadow:
		default:
			return nil, fmt.Errorf("app %s: mode %q: want live, dry-run or shadow", app, mode)
		}
		out[app] = mode
	}
	return out, nil
}

// Validate checks the settings.
func (c Config) Validate() error {
	if c.Driver != "sim" {
		return fmt.Errorf("executor.driver %q: want sim", c.Driver)
	}
	if c.FailureRate < 0 || c.FailureRate > 1 {
		return fmt.Errorf("executor.sim.failure-rate %v: want 0..1", c.FailureRate)
	}
	return nil
}

func (c Config) mode(app string) string {
	if m, ok := c.Modes[app]; ok {
		return m
	}
	return ModeLive
}
