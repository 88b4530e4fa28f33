package executor

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
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
	// Driver is the live driver: DriverSim, DriverCommand or DriverWebhook.
	Driver string
	// Modes maps an app to its mode; the key "*" sets the mode of apps not
	// listed, which are otherwise live.
	Modes map[string]string
	// BootDelays is the simulated boot delay per tier; DefaultBootDelay otherwise.
	BootDelays       map[string]time.Duration
	DefaultBootDelay time.Duration
	// FailureRate is the simulated probability a booting replica fails.
	FailureRate float64
	// Seed makes simulated failures deterministic.
	Seed int64
	// Command configures the command driver.
	Command CommandConfig
	// Webhook configures the webhook driver.
	Webhook WebhookConfig
	// Kubernetes configures the kubernetes driver.
	Kubernetes KubeConfig

	// The text of -executor.sim.boot-delays and -executor.modes, parsed by
	// Resolve (string flags so that cli gives them environment fallbacks).
	bootDelaysFlag, modesFlag string
}

// DefaultConfig returns a simulated driver whose boot delays match the
// default policy's lead times (web 1m, cache 3m, db 10m), and the defaults
// of the other drivers.
func DefaultConfig() Config {
	return Config{
		Driver:           DriverSim,
		Modes:            map[string]string{},
		BootDelays:       map[string]time.Duration{"web": time.Minute, "cache": 3 * time.Minute, "db": 10 * time.Minute},
		DefaultBootDelay: 2 * time.Minute,
		Seed:             1,
		Command:          DefaultCommandConfig(),
		Webhook:          DefaultWebhookConfig(),
		Kubernetes:       DefaultKubeConfig(),
	}
}

// RegisterFlags adds the executor.* flags.
func (c *Config) RegisterFlags(f *cli.Flags) {
	d := DefaultConfig()
	f.String(&c.Driver, "executor.driver", d.Driver, "driver acting on decisions: sim, command, webhook or kubernetes")
	f.Float(&c.FailureRate, "executor.sim.failure-rate", 0, "probability a simulated replica fails to boot")
	f.Int64(&c.Seed, "executor.sim.seed", d.Seed, "seed of simulated failures")
	f.Duration(&c.DefaultBootDelay, "executor.sim.boot-delay", d.DefaultBootDelay, "simulated boot delay of tiers not listed in -executor.sim.boot-delays")
	f.String(&c.bootDelaysFlag, "executor.sim.boot-delays", "", "simulated boot delay per tier, e.g. web=1m,cache=3m,db=10m (default web=1m,cache=3m,db=10m)")
	f.String(&c.modesFlag, "executor.modes", "", "mode per app: app=live|dry-run|shadow, comma-separated; *=mode sets the mode of apps not listed (default live)")
	c.Command.registerFlags(f)
	c.Webhook.registerFlags(f)
	c.Kubernetes.registerFlags(f)
}

// WithFile returns c with the modes the configuration file gives its apps
// added to Modes; a mode given by -executor.modes wins.
func (c Config) WithFile(f *config.File) Config {
	modes := maps.Clone(c.Modes)
	if modes == nil {
		modes = map[string]string{}
	}
	for _, a := range f.Apps {
		if _, set := modes[a.Name]; !set && a.Mode != "" {
			modes[a.Name] = a.Mode
		}
	}
	c.Modes = modes
	return c
}

// Resolve returns the config with the text of -executor.sim.boot-delays and
// -executor.modes, when given, parsed into BootDelays and Modes. New and
// Validate call it; a caller reading those maps after parsing flags does too.
func (c Config) Resolve() (Config, error) {
	if c.bootDelaysFlag != "" {
		m, err := parseDelays(c.bootDelaysFlag)
		if err != nil {
			return c, fmt.Errorf("executor.sim.boot-delays: %w", err)
		}
		c.BootDelays, c.bootDelaysFlag = m, ""
	}
	if c.modesFlag != "" {
		m, err := ParseModes(c.modesFlag)
		if err != nil {
			return c, fmt.Errorf("executor.modes: %w", err)
		}
		c.Modes, c.modesFlag = m, ""
	}
	k, err := c.Kubernetes.Resolve()
	if err != nil {
		return c, err
	}
	c.Kubernetes = k
	return c, nil
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
		if err := proto.CheckToken("tier", k); err != nil {
			return nil, err
		}
		out[k] = d
	}
	return out, nil
}

// ParseModes parses "app=mode,app=mode", where app may be "*" for every app
// not listed.
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
		if app != "*" {
			if err := proto.CheckToken("app", app); err != nil {
				return nil, err
			}
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

// Validate checks the settings, including the selected driver's.
func (c Config) Validate() error {
	c, err := c.Resolve()
	if err != nil {
		return err
	}
	var errs []error
	switch c.Driver {
	case DriverSim:
	case DriverCommand:
		if err := c.Command.Validate(); err != nil {
			errs = append(errs, err)
		}
	case DriverWebhook:
		if err := c.Webhook.Validate(); err != nil {
			errs = append(errs, err)
		}
	case DriverKubernetes:
		if err := c.Kubernetes.Validate(); err != nil {
			errs = append(errs, err)
		}
	default:
		errs = append(errs, fmt.Errorf("executor.driver %q: want sim, command, webhook or kubernetes", c.Driver))
	}
	if c.FailureRate < 0 || c.FailureRate > 1 {
		errs = append(errs, fmt.Errorf("executor.sim.failure-rate %v: want 0..1", c.FailureRate))
	}
	for app, m := range c.Modes {
		switch m {
		case ModeLive, ModeDryRun, ModeShadow:
		default:
			errs = append(errs, fmt.Errorf("executor.modes: app %s: mode %q: want live, dry-run or shadow", app, m))
		}
	}
	return errors.Join(errs...)
}

func (c Config) mode(app string) string {
	if m, ok := c.Modes[app]; ok {
		return m
	}
	if m, ok := c.Modes["*"]; ok {
		return m
	}
	return ModeLive
}
