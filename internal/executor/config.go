package executor

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/policy"
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
	// MaxAge is the oldest decision a real driver acts on, measured from
	// its event time when the executor sees it; 0 means each tier's lead
	// time (at least a minute) plus its app's tick. Older decisions are
	// recorded as skipped.
	MaxAge time.Duration
	// Lease is how long a member holds a tier's lease while a driver that
	// cannot read the tier's count back (command, webhook) changes it:
	// another member waits for it before changing the tier. It lapses by
	// itself after Lease if its holder dies; the driver's own timeout must
	// end the call at least leaseMargin before (validateResolved), and the
	// executor ends every leased call leaseMargin before its lease lapses,
	// counted from before the take.
	Lease time.Duration
	// MaxFutureSkew is how far past now a decision's event time may lie;
	// a later one is dead-lettered as forged. 0 turns the check off (the
	// all-in-one does so when simulated time runs faster than real time).
	MaxFutureSkew time.Duration
	// Authority lists, per app, the tiers a real driver may act on: those
	// the configuration file names under an app with mode "live". Built by
	// WithFile; empty means no real action at all.
	Authority map[string][]string
	// LeadTimes holds each configured tier's lead time, by app then tier.
	LeadTimes map[string]map[string]time.Duration
	// Ticks holds each configured app's policy tick as the file gives it
	// (see maxAge), for decisions that do not carry their own.
	Ticks map[string]time.Duration
	// Bounds holds each configured tier's replica bounds (the policy's
	// min and max), by app then tier. Built by WithFile. A change that
	// leaves them is refused (see outOfBounds).
	Bounds map[string]map[string]Bounds
	// Named lists, per app, the tiers the configuration file names, in
	// any mode, those a sim or trace app listing none produces included
	// (config.File.Series). Built by WithFile. The replica bucket keeps room for
	// their states (see Service.room).
	Named map[string][]string

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
		MaxFutureSkew:    policy.MaxFutureSkew,
		Lease:            time.Minute,
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
	f.String(&c.modesFlag, "executor.modes", "", "mode per app: app=live|dry-run|shadow, comma-separated; *=mode sets the mode of every app not listed, over the mode the -config file gives it where that acts more (live, shadow, dry-run: *=dry-run holds every app; default: the file's mode, else live). A real driver acts only on apps and tiers the -config file names with mode: live")
	f.Duration(&c.MaxAge, "executor.max-age", 0, "oldest decision a real driver acts on (0: the tier's lead time, at least 1m, plus its app's tick)")
	f.Duration(&c.Lease, "executor.lease", d.Lease, "command and webhook drivers: how long a member holds a tier while its driver changes it (another member waits); lapses by itself if the member dies; must exceed the driver's timeout by at least 5s, in whole seconds")
	f.Duration(&c.MaxFutureSkew, "executor.max-future-skew", d.MaxFutureSkew, "decisions with event times later than now plus this are dead-lettered (0: no check, only with the sim driver)")
	c.Command.registerFlags(f)
	c.Webhook.registerFlags(f)
	c.Kubernetes.registerFlags(f)
}

// caution orders the modes by how little they act: a "*" in
// -executor.modes overrides the file's mode of an app only with a mode
// that acts less.
var caution = map[string]int{ModeLive: 0, ModeShadow: 1, ModeDryRun: 2}

// Bounds are a tier's replica bounds, as its scaling policy sets them.
type Bounds struct{ Min, Max int }

// WithFile returns c with the modes the configuration file gives its apps
// added to Modes (a mode given by -executor.modes for the app wins, and one
// for "*" where it acts less: see caution), the tiers of apps
// whose mode is explicitly "live" as the real drivers' Authority, every
// configured tier's lead time and replica bounds, and each tier's Kubernetes workload (a
// target given by -executor.kubernetes.targets wins).
func (c Config) WithFile(f *config.File) Config {
	modes := maps.Clone(c.Modes)
	if modes == nil {
		modes = map[string]string{}
	}
	c.Authority = map[string][]string{}
	c.LeadTimes = map[string]map[string]time.Duration{}
	c.Ticks = map[string]time.Duration{}
	c.Bounds = map[string]map[string]Bounds{}
	// Every series the file's sources produce: a sim or trace app that
	// lists no tiers produces the simulated shop's (config.File.Series).
	c.Named = map[string][]string{}
	for _, k := range f.Series() {
		c.Named[k.App] = append(c.Named[k.App], k.Tier)
	}
	c.Kubernetes.Targets = maps.Clone(c.Kubernetes.Targets)
	policies := f.Policies(policy.DefaultAppConfig())
	// A "*" in -executor.modes sets every app the flag does not name,
	// those the file gives a mode that acts more included: "*=dry-run" is
	// the brake deploy/kubernetes starts with, and must hold an app the
	// file names live; "*=live" must not undo the file's dry-run or shadow.
	star, isStar := modes["*"]
	for _, a := range f.Apps {
		if _, set := modes[a.Name]; !set && a.Mode != "" && (!isStar || caution[a.Mode] > caution[star]) {
			modes[a.Name] = a.Mode
		}
		if a.Live() {
			for _, t := range a.Tiers {
				c.Authority[a.Name] = append(c.Authority[a.Name], t.Name)
			}
		}
		for _, t := range a.Tiers {
			key := a.Name + "." + t.Name
			if _, set := c.Kubernetes.Targets[key]; set || t.Workload == "" {
				continue // -executor.kubernetes.targets wins
			}
			m, err := ParseKubeTargets(key + "=" + t.Workload)
			if err != nil {
				continue // config.Load validated the form already
			}
			if c.Kubernetes.Targets == nil {
				c.Kubernetes.Targets = map[string]KubeTarget{}
			}
			c.Kubernetes.Targets[key] = m[key]
		}
		if p, ok := policies[a.Name]; ok {
			lt := map[string]time.Duration{}
			bs := map[string]Bounds{}
			for _, t := range p.Tiers {
				lt[t.Name] = t.LeadTime
				bs[t.Name] = Bounds{Min: t.Min, Max: t.Max}
			}
			c.LeadTimes[a.Name] = lt
			c.Ticks[a.Name] = p.Tick
			c.Bounds[a.Name] = bs
		}
	}
	c.Modes = modes
	return c
}

// notAuthorised starts the reason of a decision on a tier without authority.
const notAuthorised = "not authorised"

// authorised returns "" when a real driver may act on app's tier, else why not.
func (c Config) authorised(app, tier string) string {
	tiers, ok := c.Authority[app]
	if !ok {
		return fmt.Sprintf("%s: app %s is not configured with mode live", notAuthorised, app)
	}
	if !slices.Contains(tiers, tier) {
		return fmt.Sprintf("%s: app %s has no tier %s in the configuration", notAuthorised, app, tier)
	}
	return ""
}

// maxAge is the oldest decision a real driver acts on for app's tier: the
// -executor.max-age given, else policy.ActAge of the tier's lead time and
// the app's tick. The tick is the decision's own (tickMS, which the
// decider knows even when -decider.tick sets it), else the file's; ActAge
// takes at most policy.MaxTick of it, so no tick a decision claims makes
// a stale one fresh.
func (c Config) maxAge(app, tier string, tickMS int64) time.Duration {
	if c.MaxAge > 0 {
		return c.MaxAge
	}
	tick := c.Ticks[app]
	if tickMS > 0 {
		tick = time.Duration(tickMS) * time.Millisecond
	}
	return policy.ActAge(c.LeadTimes[app][tier], tick)
}

// bounds returns app's tier's replica bounds and whether they are known:
// those of the configuration file, else, where a real driver may act
// (real), the default policy's (policy.DefaultAppConfig: 1..200 for every
// tier, which is what the decider gives a tier the file does not bound).
// A real driver never acts on a tier without bounds; the simulated cluster
// may, as it also runs decisions of policies set outside the file (an
// all-in-one's or an evaluation's decider).
func (c Config) bounds(app, tier string, real bool) (Bounds, bool) {
	if b, ok := c.Bounds[app][tier]; ok {
		return b, true
	}
	if !real {
		return Bounds{}, false
	}
	if b, ok := defaultBounds.tiers[tier]; ok {
		return b, true
	}
	return defaultBounds.other, true
}

// defaultBounds are the default policy's bounds, by tier name, and those
// of its first tier for any other name; built once, not per decision.
var defaultBounds = func() (d struct {
	tiers map[string]Bounds
	other Bounds
}) {
	def := policy.DefaultAppConfig()
	d.tiers = map[string]Bounds{}
	for _, t := range def.Tiers {
		d.tiers[t.Name] = Bounds{Min: t.Min, Max: t.Max}
	}
	d.other = Bounds{Min: def.Tiers[0].Min, Max: def.Tiers[0].Max}
	return d
}()

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
	return c.validateResolved()
}

// ValidateWith checks the settings as New uses them with the
// configuration file f (Deps.Config; nil without one): resolved, the
// file's tiers applied, then validated. A standalone main calls it before
// it waits for NATS.
func (c Config) ValidateWith(f *config.File) error {
	_, err := c.resolveWith(f)
	return err
}

// resolveWith resolves c, applies the file f (when not nil) and validates
// the result, which New runs on.
func (c Config) resolveWith(f *config.File) (Config, error) {
	c, err := c.Resolve()
	if err != nil {
		return c, err
	}
	if f != nil {
		c = c.WithFile(f)
	}
	// Validated after the file is applied: a tier's Kubernetes workload
	// may be given there only.
	return c, c.validateResolved()
}

// validateResolved checks settings Resolve has parsed (and WithFile may
// have completed: a tier's workload given only in the configuration file).
func (c Config) validateResolved() error {
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
	if err := c.validateLease(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxAge < 0 || c.MaxFutureSkew < 0 {
		errs = append(errs, fmt.Errorf("executor.max-age and executor.max-future-skew must not be negative"))
	}
	if c.Driver != DriverSim && c.MaxFutureSkew == 0 {
		// A real driver acts in wall-clock time: a decision from the
		// future is forged or from a clock gone wrong, never acted on.
		errs = append(errs, fmt.Errorf("executor.max-future-skew 0 turns the check on decisions from the future off: not with driver %s (only the simulated cluster may run ahead of the clock)", c.Driver))
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

// leaseMargin is how long before its lease lapses a leased driver call
// must have ended: the events and the state are stored meanwhile, and the
// server's expiry and the members' clocks are not exact.
const leaseMargin = 5 * time.Second

// minLease is the shortest lease: the server expires keys in whole seconds.
const minLease = 2 * time.Second

// validateLease checks that the lease outlasts the selected driver's
// longest call by leaseMargin: a call still running when its lease lapsed
// could land after another member's newer change.
func (c Config) validateLease() error {
	if c.Lease < minLease {
		return fmt.Errorf("executor.lease %v: want at least %v", c.Lease, minLease)
	}
	if c.Lease%time.Second != 0 {
		// The server counts a key's time to live in whole seconds and
		// drops the rest (Nats-TTL): the lease would lapse before the
		// executor's deadlines assume.
		return fmt.Errorf("executor.lease %v: want whole seconds (the server keeps a key's time to live in whole seconds and drops the rest)", c.Lease)
	}
	var bound time.Duration
	var flag string
	switch c.Driver {
	case DriverCommand:
		// The program is killed at the timeout; its output is waited for
		// a while longer (commandWaitDelay).
		bound, flag = c.Command.Timeout+commandWaitDelay, "executor.command.timeout (plus "+commandWaitDelay.String()+" waiting for its output)"
	case DriverWebhook:
		bound, flag = c.Webhook.TotalTimeout, "executor.webhook.total-timeout"
	default:
		return nil
	}
	if bound+leaseMargin > c.Lease {
		return fmt.Errorf("executor.lease %v: the driver's calls may last %v (%s), and the lease must outlast them by %v: raise -executor.lease to at least %v or lower the timeout",
			c.Lease, bound, flag, leaseMargin, bound+leaseMargin)
	}
	return nil
}
