package collector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/hostcheck"
	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/internal/shop"
	"github.com/headroomhq/headroom/proto"
)

// Config configures the collector and its sources. Without File it runs one
// simulated shop named App; with File it runs the sources the file names.
type Config struct {
	// App names the simulated application.
	App string
	// Seed makes the simulation reproducible.
	Seed int64
	// Tick is the event-time interval between live ticks.
	Tick time.Duration
	// Speed is simulated seconds per real second; 0 runs as fast as the
	// pipeline allows (for tests and demos, best with Lockstep).
	Speed float64
	// Backfill is how much history to publish before going live.
	Backfill time.Duration
	// BackfillTick is the interval between backfilled ticks.
	BackfillTick time.Duration
	// Start is the simulated time live ticks start at; zero means now
	// (truncated to Tick).
	Start time.Time
	// Ticks stops the simulated shop after this many live ticks from Start
	// (the same last tick on every member of the group); 0 runs until ctx
	// ends.
	Ticks int
	// Lockstep makes each live tick wait (up to LockstepWait of real time)
	// until the executor has acted on the tick two before, so closed-loop
	// runs are reproducible at any speed.
	Lockstep     bool
	LockstepWait time.Duration
	// CatchUpWait bounds how long the first live tick waits, in lockstep
	// mode, for the pipeline to work through the backfilled history.
	CatchUpWait time.Duration
	// Target is the utilisation the backfilled history was provisioned for.
	Target float64
	// Shop tunes the simulated application; zero value means shop.DefaultConfig.
	Shop *shop.Config
	// Push bounds the push API served on the service's HTTP mux.
	Push ingest.Config
	// TrustedProxies is -push.trusted-proxies: the reverse proxies in
	// front of the push API, comma-separated CIDRs or addresses, read into
	// Push.TrustedProxies by PushConfig (the file's push.trusted_proxies
	// replaces it when present, an empty list too).
	TrustedProxies string
	// File, when set, lists the apps and their sources (and overrides Push).
	File *config.File
	// RealDriverLive says a real executor driver (command, webhook, …) acts
	// live in this installation; New then fails unless a push token is
	// set (ingest.RequireToken). The all-in-one, which runs the executor,
	// sets it exactly and sets KnowsDriver.
	RealDriverLive bool
	// KnowsDriver says RealDriverLive is exact. Without it (the standalone
	// collector, which cannot see the executor's driver) a configuration
	// file that names any app mode: live counts as a real driver live,
	// since that is the authority a real driver acts on; the collector also
	// requires a token whenever it listens beyond loopback
	// (ingest.RequireTokenOn).
	KnowsDriver bool
}

// DefaultConfig simulates "shop" live in real time after 7 days of history.
func DefaultConfig() Config {
	return Config{App: "shop", Seed: 1, Tick: 15 * time.Second, Speed: 1, Backfill: 7 * 24 * time.Hour,
		BackfillTick: time.Minute, Lockstep: true, LockstepWait: 2 * time.Second, CatchUpWait: 3 * time.Minute, Target: 0.7,
		Push: ingest.DefaultConfig()}
}

// RegisterFlags adds the sim.*, push.* flags and -speed.
func (c *Config) RegisterFlags(f *cli.Flags) {
	d := DefaultConfig()
	f.String(&c.App, "sim.app", d.App, "name of the simulated application")
	f.Int64(&c.Seed, "sim.seed", d.Seed, "seed of the simulated application")
	f.Duration(&c.Tick, "sim.tick", d.Tick, "event time between live ticks")
	f.Float(&c.Speed, "speed", d.Speed, "simulated seconds per real second (0: as fast as possible)")
	f.Duration(&c.Backfill, "sim.backfill", d.Backfill, "history to backfill at start")
	f.Duration(&c.BackfillTick, "sim.backfill-tick", d.BackfillTick, "event time between backfilled ticks")
	f.Bool(&c.Lockstep, "sim.lockstep", d.Lockstep, "wait for the executor's replica state before each tick")
	f.String(&c.Push.Token, "push.token", "", "bearer token the push API requires, good for every app (push.tokens in -config names tokens limited to some apps); needed when a real executor driver is live or the collector listens beyond loopback")
	f.Float(&c.Push.RateLimit, "push.rate-limit", d.Push.RateLimit, "ticks per second each push token may push (all senders together without a token); 0: no limit")
	f.Int(&c.Push.RateBurst, "push.rate-burst", d.Push.RateBurst, "most ticks a push token may push at once")
	f.Float(&c.Push.AuthFailLimit, "push.auth-fail-limit", d.Push.AuthFailLimit, "failed push authentications (401) per second one client address may make, beyond its burst; then every request from it is refused 429, the right token's too (the TCP peer's address, an IPv6 one's /64, and its /48 16 times as often; the client -push.forwarded-header names only from -push.trusted-proxies); 0: no limit")
	f.Int(&c.Push.AuthFailBurst, "push.auth-fail-burst", d.Push.AuthFailBurst, "failed push authentications one client address may make in a row")
	f.String(&c.TrustedProxies, "push.trusted-proxies", "", "reverse proxies in front of the push API, comma-separated CIDRs or addresses: from these peers only, the right-most address that is not one of them in the header -push.forwarded-header names (X-Forwarded-For by default) is the client whose failed authentications count (empty: never read a forwarding header)")
	f.String(&c.Push.ForwardedHeader, "push.forwarded-header", config.HeaderXForwardedFor, "the header the proxies of -push.trusted-proxies append the client's address to, read right to left: X-Forwarded-For, or Forwarded (RFC 7239, its for= parameter); only this one is read, since a proxy passes the other on as the client wrote it")
	f.Int64(&c.Push.MaxBody, "push.max-body", d.Push.MaxBody, "largest push body in bytes")
	f.Duration(&c.Push.MaxFutureSkew, "push.max-skew", d.Push.MaxFutureSkew, "how far ahead of now a pushed tick may be")
	f.Duration(&c.Push.MaxAge, "push.max-age", d.Push.MaxAge, "how far behind now a pushed tick may be")
	f.Int(&c.Push.MaxConcurrent, "push.max-concurrent", d.Push.MaxConcurrent, "push requests handled at once (429 beyond)")
	f.Duration(&c.Push.ReadTimeout, "push.read-timeout", d.Push.ReadTimeout, "time to receive one push body (408 beyond)")
}

// StandalonePushHosts is the push API's Host allowlist for a standalone
// collector (-push.allowed-hosts): the names in list (comma-separated) when
// it has any, else the host of the listen address listen (-http.addr) when
// it names one, so "10.0.0.5:8082" answers Host 10.0.0.5 besides the
// loopback names internal/hostcheck always allows on the listening port.
// An unspecified host (":8082", "0.0.0.0:8082") adds nothing: the names
// the collector is reached by must then be listed. The all-in-one uses
// -gateway.allowed-hosts instead, the same list as its dashboard.
func StandalonePushHosts(list, listen string) []string {
	if hosts := hostcheck.Split(list); hosts != nil {
		return hosts
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil || host == "" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return nil
	}
	return []string{host}
}

// CheckServing checks the settings as New uses them with the
// configuration file f (Deps.Config; nil without one, and File, when set,
// wins) and the push API served on httpAddr
// (Deps.HTTPAddr; "" when New gets no mux): Validate, then whether
// the push API lacks a token it needs (ingest.RequireToken,
// ingest.RequireTokenOn). A main calls it before it starts or waits for
// NATS, so a collector that would refuse to serve the push API says so at
// once.
func (c Config) CheckServing(f *config.File, httpAddr string) error {
	c = c.withFile(f)
	if err := c.Validate(); err != nil {
		return err
	}
	return c.requirePushToken(httpAddr)
}

// requirePushToken says whether the push API may be served on httpAddr
// without a token: not while a real driver may act live, nor beyond
// loopback.
func (c Config) requirePushToken(httpAddr string) error {
	pc := c.PushConfig()
	live := c.RealDriverLive || (!c.KnowsDriver && c.File != nil && c.File.GrantsLive())
	if err := ingest.RequireToken(pc, live); err != nil {
		return err
	}
	return ingest.RequireTokenOn(pc, httpAddr)
}

// withFile returns c with File set to f unless it names a file already.
func (c Config) withFile(f *config.File) Config {
	if c.File == nil {
		c.File = f
	}
	return c
}

// Validate checks the settings.
func (c Config) Validate() error {
	var errs []error
	if err := proto.CheckToken("sim.app", c.App); err != nil {
		errs = append(errs, err)
	}
	if c.Tick < time.Second {
		errs = append(errs, fmt.Errorf("sim.tick %v: want at least 1s", c.Tick))
	}
	if c.BackfillTick < c.Tick {
		errs = append(errs, fmt.Errorf("sim.backfill-tick %v: want at least sim.tick", c.BackfillTick))
	}
	if c.Speed < 0 {
		errs = append(errs, fmt.Errorf("speed %v: want >= 0", c.Speed))
	}
	if c.Backfill < 0 || c.Backfill > 30*24*time.Hour {
		errs = append(errs, fmt.Errorf("sim.backfill %v: want 0..720h", c.Backfill))
	}
	// Every push flag's own value is checked, whatever the file says:
	// one the file replaces today fails the start as it would without
	// the file, and will once the file's key goes. Then the merged
	// settings, for what only the two together can get wrong (a file's
	// burst beside the flag's limit); only when the flags pass, so that
	// a flag the file leaves is refused once.
	if ferrs := c.checkPushFlags(); len(ferrs) > 0 {
		errs = append(errs, ferrs...)
	} else if err := c.PushConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// pushFlag is one push flag with a check: its name, the file's key
// replacing it (key, and replaced saying the file sets it, as PushConfig
// reads it), and the check of the flag's own value.
type pushFlag struct {
	name     string
	key      string
	replaced func(config.Push) bool
	check    func(where flagWhere) error
}

// flagWhere names a push flag in its check's error: the flag, its
// variable, and the file's key when it replaces the flag.
type flagWhere struct{ flag, env, replacedBy string }

// String is "-push.x (HEADROOM_PUSH_X, replaced by the file's push.x)".
func (w flagWhere) String() string {
	s := "-" + w.flag + " (" + w.env
	if w.replacedBy != "" {
		s += ", replaced by the file's " + w.replacedBy
	}
	return s + ")"
}

// pushFlags are the push flags with a check, each checked alone on its
// own value (the rate and auth-fail bursts beside their own flag's
// limit). where names the flag and its variable, and the file's key when
// it replaces the flag.
func (c Config) pushFlags() []pushFlag {
	p := c.Push
	positive := func(what string, ok bool, v any) func(flagWhere) error {
		return func(where flagWhere) error {
			if !ok {
				return fmt.Errorf("%s: push %s %v: want positive", where, what, v)
			}
			return nil
		}
	}
	return []pushFlag{
		{"push.token", "token", func(fp config.Push) bool { return fp.Token != "" }, func(where flagWhere) error {
			if p.Token == "" {
				return nil
			}
			name := "push token (-" + where.flag + " or " + where.env
			if where.replacedBy != "" {
				name += ", replaced by the file's " + where.replacedBy
			}
			return config.CheckSecret(name+")", p.Token)
		}},
		{"push.rate-limit", "rate_limit", func(fp config.Push) bool { return fp.RateLimit != nil }, func(where flagWhere) error {
			if err := config.CheckRate(p.RateLimit, "ticks"); err != nil {
				return fmt.Errorf("%s: push rate limit %w", where, err)
			}
			return nil
		}},
		{"push.rate-burst", "rate_burst", func(fp config.Push) bool { return fp.RateBurst > 0 }, func(where flagWhere) error {
			if err := config.CheckBurst(p.RateBurst); p.RateLimit > 0 && err != nil {
				return fmt.Errorf("%s: push rate burst %w", where, err)
			}
			return nil
		}},
		{"push.auth-fail-limit", "auth_fail_limit", func(fp config.Push) bool { return fp.AuthFailLimit != nil }, func(where flagWhere) error {
			if err := config.CheckRate(p.AuthFailLimit, "failed authentications"); err != nil {
				return fmt.Errorf("%s: push auth fail limit %w", where, err)
			}
			return nil
		}},
		{"push.auth-fail-burst", "auth_fail_burst", func(fp config.Push) bool { return fp.AuthFailBurst != nil }, func(where flagWhere) error {
			if err := config.CheckBurst(p.AuthFailBurst); p.AuthFailLimit > 0 && err != nil {
				return fmt.Errorf("%s: push auth fail burst %w", where, err)
			}
			return nil
		}},
		{"push.trusted-proxies", "trusted_proxies", func(fp config.Push) bool { return fp.TrustedProxiesSet }, func(where flagWhere) error {
			var errs []error
			for _, e := range hostcheck.Split(c.TrustedProxies) {
				if _, err := config.ParseTrustedProxy(e); err != nil {
					errs = append(errs, fmt.Errorf("%s: push trusted proxy %w", where, err))
				}
			}
			return errors.Join(errs...)
		}},
		{"push.forwarded-header", "forwarded_header", func(fp config.Push) bool { return fp.ForwardedHeader != "" }, func(where flagWhere) error {
			if _, err := config.ForwardedHeader(p.ForwardedHeader); err != nil {
				return fmt.Errorf("%s: push forwarded header %w", where, err)
			}
			return nil
		}},
		{"push.max-body", "max_body_bytes", func(fp config.Push) bool { return fp.MaxBodyBytes > 0 }, positive("max body", p.MaxBody > 0, p.MaxBody)},
		{"push.max-skew", "max_future_skew", func(fp config.Push) bool { return fp.MaxFutureSkew > 0 }, func(where flagWhere) error {
			if p.MaxFutureSkew < 0 {
				return fmt.Errorf("%s: push skew %v: want ≥ 0", where, p.MaxFutureSkew)
			}
			return nil
		}},
		{"push.max-age", "max_age", func(fp config.Push) bool { return fp.MaxAge > 0 }, positive("max age", p.MaxAge > 0, p.MaxAge)},
		{"push.max-concurrent", "max_concurrent", func(fp config.Push) bool { return fp.MaxConcurrent > 0 }, positive("max concurrent", p.MaxConcurrent > 0, p.MaxConcurrent)},
		{"push.read-timeout", "read_timeout", func(fp config.Push) bool { return fp.ReadTimeout > 0 }, func(where flagWhere) error {
			if p.ReadTimeout < 0 {
				return fmt.Errorf("%s: push read timeout %v: want ≥ 0", where, p.ReadTimeout)
			}
			return nil
		}},
	}
}

// checkPushFlags checks every push flag's own value (pushFlags), each
// error naming the flag, its variable, and the file's key when it
// replaces the flag.
func (c Config) checkPushFlags() []error {
	var errs []error
	for _, f := range c.pushFlags() {
		where := flagWhere{flag: f.name, env: cli.EnvName(f.name)}
		if c.File != nil && f.replaced(c.File.Push) {
			where.replacedBy = "push." + f.key
		}
		if err := f.check(where); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// PushConfig is the push API's effective settings: Push with the file's
// push section over it, and each configured app's source (the simulated
// App's without a file) so pushes into apps fed otherwise are refused. It
// leaves Series unset; New adds the collector's series tracker.
func (c Config) PushConfig() ingest.Config {
	p := c.Push
	if c.TrustedProxies != "" {
		p.TrustedProxies = hostcheck.Split(c.TrustedProxies)
	}
	if c.File == nil {
		p.Sources = map[string]string{c.App: config.SourceSim}
		return p
	}
	p.Sources = make(map[string]string, len(c.File.Apps))
	for _, a := range c.File.Apps {
		p.Sources[a.Name] = a.Source
	}
	fp := c.File.Push
	if fp.Token != "" {
		// The file's push.token replaces the flag's, and may be written
		// as its SHA-256: it is kept as an all-apps token by its digest.
		p.Token = ""
		p.Tokens = append(p.Tokens, ingest.Token{Name: "push.token", Digest: fp.TokenDigest, Apps: []string{"*"}})
	}
	for _, t := range fp.Tokens {
		it := ingest.Token{Name: t.Name, Digest: t.Digest, Apps: t.Apps, RateLimit: t.RateLimit}
		if t.RateBurst != nil {
			it.RateBurst = *t.RateBurst
		}
		p.Tokens = append(p.Tokens, it)
	}
	if fp.RateLimit != nil {
		p.RateLimit = *fp.RateLimit
	}
	if fp.RateBurst > 0 {
		p.RateBurst = fp.RateBurst
	}
	if fp.AuthFailLimit != nil {
		p.AuthFailLimit = *fp.AuthFailLimit
	}
	if fp.AuthFailBurst != nil {
		p.AuthFailBurst = *fp.AuthFailBurst
	}
	if fp.TrustedProxiesSet {
		// Present, the file's list replaces the flag's, an empty one too.
		p.TrustedProxies = fp.TrustedProxies
	}
	if fp.ForwardedHeader != "" {
		p.ForwardedHeader = fp.ForwardedHeader
	}
	if fp.MaxBodyBytes > 0 {
		p.MaxBody = fp.MaxBodyBytes
	}
	if fp.MaxFutureSkew > 0 {
		p.MaxFutureSkew = fp.MaxFutureSkew
	}
	if fp.MaxAge > 0 {
		p.MaxAge = fp.MaxAge
	}
	if fp.MaxTicks > 0 {
		p.MaxTicks = fp.MaxTicks
	}
	if fp.MaxConcurrent > 0 {
		p.MaxConcurrent = fp.MaxConcurrent
	}
	if fp.ReadTimeout > 0 {
		p.ReadTimeout = fp.ReadTimeout
	}
	if len(fp.AllowedOrigins) > 0 {
		p.AllowedOrigins = fp.AllowedOrigins
	}
	return p
}

// SeriesLimits is the file's series limits, or the defaults without one.
func (c Config) SeriesLimits() config.Limits {
	if c.File == nil {
		return config.DefaultLimits()
	}
	return c.File.Limits
}

// source is one producer of ticks for one app; run calls ready once it is
// live. The collectors of a group split their sources by app (see Run):
// run starts when this member takes the app and its context ends when the
// member hands it over, so run resumes from what METRICS holds for the app.
type source interface {
	name() string
	key() string // the app, the unit the group splits sources by
	run(ctx context.Context, view *replicaView, ready func()) error
}

// Service is the collector.
type Service struct {
	cfg   Config
	bus   *bus.Bus
	log   zerolog.Logger
	ready *service.Ready
	// Now is the wall clock; tests replace it.
	Now func() time.Time

	sources []source
	push    *ingest.Handler
	// series admits every new app.tier the push API brings, within the
	// configured limits, and frees the places of an app none of whose
	// series was pushed for 5/4 of limits.idle_after, once the stages have
	// dropped their state; the file's own series are pinned. Sources that
	// create series may share it.
	series *limits.Recent

	// view mirrors the executor's replica bucket: the sim source's closed
	// loop, and the committed state stamped on every tick.
	view *replicaView

	ticks  prometheus.Counter
	waits  prometheus.Counter
	missed *prometheus.CounterVec
	scrape *scrapeMetrics

	// share is this member's place in the collectors' group, once Run
	// has joined it.
	share atomic.Pointer[bus.Share]

	// runWall is the wall time Run began: the simulated clocks of sources
	// this member takes over mid-run are anchored there (see simSource.due).
	runWall time.Time

	// lastEventTimes is the bus's LastEventTimes; tests make it fail.
	lastEventTimes func(ctx context.Context, k proto.Kind, filter string) (map[string]time.Time, error)
	// lastTicksPause is the first pause before lastTicks reads again
	// (lastTicksRetry); tests shorten it.
	lastTicksPause time.Duration
}

// lastTicksRetry is the first pause before a failed read of an app's
// last stored ticks is tried again; each later pause doubles, up to
// lastTicksMaxPause.
const (
	lastTicksRetry    = time.Second
	lastTicksMaxPause = 30 * time.Second
)

// lastTicks returns the event time of the last tick METRICS holds on each
// of app's subjects: what a source taking the app resumes after. The read
// goes to the stream's leader, which a cluster electing a new one, or a
// NATS server restarting, leaves unanswered for a while, so a failed read
// is tried again, with a warning, until it succeeds or ctx ends (the
// source waits, and the collector is not ready, meanwhile). Returned, the
// error would stop the whole collector, every other app's source and the
// push API with it.
func (s *Service) lastTicks(ctx context.Context, app string) (map[string]time.Time, error) {
	filter := proto.AppFilter(s.bus.Prefix(), proto.KindMetrics, app)
	pause := s.lastTicksPause
	for attempt := 1; ; attempt++ {
		last, err := s.lastEventTimes(ctx, proto.KindMetrics, filter)
		if err == nil {
			return last, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("last ticks of %s: %w", app, err)
		}
		s.log.Warn().Err(err).Str("app", app).Int("attempt", attempt).Dur("retry_in", pause).
			Msg("cannot read the app's last stored ticks yet (a NATS leader election or restart?): its source waits and tries again")
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("last ticks of %s: %w", app, err)
		case <-time.After(pause):
		}
		pause = min(2*pause, lastTicksMaxPause)
	}
}

// Option changes how New builds the collector.
type Option func(*options)

type options struct {
	publish ingest.Publisher
}

// WithPushPublisher makes the push API hand its accepted ticks, stamped
// as ever, to publish instead of storing them in METRICS through d.Bus;
// with it the push API is mounted on d.Mux without a bus. The memory
// budget (internal/membudget) feeds the push API's per-series state so,
// with no NATS; embedders may store ticks elsewhere.
func WithPushPublisher(publish ingest.Publisher) Option {
	return func(o *options) { o.publish = publish }
}

// New builds the collector and mounts the push API on d.Mux; it starts
// nothing.
func New(cfg Config, d service.Deps, opts ...Option) (*Service, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg = cfg.withFile(d.Config)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := d.Log.With().Str("part", "collector").Logger()
	s := &Service{cfg: cfg, bus: d.Bus, view: newReplicaView(log), log: log, ready: d.Ready, Now: time.Now,
		lastEventTimes: d.Bus.LastEventTimes, lastTicksPause: lastTicksRetry,
		ticks:  prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_collector_ticks_total", Help: "Metrics ticks published."}),
		waits:  prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_collector_lockstep_timeouts_total", Help: "Live ticks published without the executor's state for the tick two before."}),
		missed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_collector_missed_ticks_total", Help: "Grid points of a scraped app that no collector recorded when this one took the app over (a missed scrape cannot be taken later)."}, []string{"app", "source"}),
		scrape: newScrapeMetrics(),
	}
	if d.Reg != nil {
		for _, c := range append([]prometheus.Collector{s.ticks, s.waits, s.missed, s.view.undecodable}, s.scrape.collectors()...) {
			if err := d.Reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	if err := s.buildSources(); err != nil {
		return nil, err
	}
	lim := cfg.SeriesLimits()
	// A stage sweeps its idle series every eighth of the idle limit, so
	// one may hold a series up to 9/8 of it after the stored time of its
	// last input, later still when it lags (its forecasts and anomaly
	// messages are stored after the metrics): the push API frees a place
	// only after 5/4 of it by its own clock, or a stage at its limit would
	// dead-letter the ticks of the new series that took it until its own
	// sweep.
	s.series = limits.NewRecent(lim.MaxSeriesPerApp, lim.MaxSeries, lim.IdleAfter+lim.IdleAfter/4)
	if cfg.File != nil {
		// The file's own series hold their places first, and for good, so
		// pushed series cannot take the total beyond the limits.
		if err := s.series.Pin(cfg.File.Series()); err != nil {
			return nil, fmt.Errorf("configured series: %w", err)
		}
	}
	if d.Mux != nil && (d.Bus != nil || o.publish != nil) {
		if err := cfg.requirePushToken(d.HTTPAddr); err != nil {
			return nil, err
		}
		pc := cfg.PushConfig()
		pc.Series = s.series
		publish := o.publish
		if publish == nil {
			publish = ingest.BusPublisher(d.Bus)
		}
		h, err := ingest.NewHandler(pc, s.stamping(publish), func() time.Time { return s.Now() }, s.log.With().Str("source", "push").Logger(), d.Reg)
		if err != nil {
			return nil, err
		}
		h.Register(d.Mux)
		s.push = h
	}
	d.Ready.Wait("collector")
	s.logEffective()
	return s, nil
}

// buildSources makes the simulated shop of the flags, or the file's sources.
func (s *Service) buildSources() error {
	if s.cfg.File == nil {
		src, err := s.newSim(s.cfg.App, s.cfg.Seed, s.cfg.Backfill)
		if err != nil {
			return err
		}
		s.sources = append(s.sources, src)
		return nil
	}
	for _, a := range s.cfg.File.Apps {
		switch a.Source {
		case config.SourceSim:
			seed, backfill := s.cfg.Seed, s.cfg.Backfill
			if a.Sim.Seed != 0 {
				seed = a.Sim.Seed
			}
			if a.Sim.Backfill != nil {
				backfill = *a.Sim.Backfill
			}
			src, err := s.newSim(a.Name, seed, backfill)
			if err != nil {
				return err
			}
			s.sources = append(s.sources, src)
		case config.SourceTrace:
			src, err := s.newTrace(a)
			if err != nil {
				return err
			}
			s.sources = append(s.sources, src)
		case config.SourceScrape:
			src, err := s.newScrape(a)
			if err != nil {
				return err
			}
			s.sources = append(s.sources, src)
		}
	}
	return nil
}

func (s *Service) newSim(app string, seed int64, backfill time.Duration) (*simSource, error) {
	// Ticks are stamped on the tick grid, so every member of the group
	// stamps an app's tick alike and a tick sent by two of them during a
	// hand-over has one id, which JetStream keeps once.
	start := s.cfg.Start.UTC().Truncate(s.cfg.Tick)
	if s.cfg.Start.IsZero() {
		start = s.Now().UTC().Truncate(s.cfg.Tick)
	}
	shopCfg := shop.DefaultConfig()
	if s.cfg.Shop != nil {
		shopCfg = *s.cfg.Shop
	}
	shopCfg.App, shopCfg.Seed = app, seed
	if shopCfg.Demand.TrendStart.IsZero() {
		shopCfg.Demand.TrendStart = shop.TrendAnchor(start, backfill)
	}
	model, err := shop.New(shopCfg)
	if err != nil {
		return nil, fmt.Errorf("shop model: %w", err)
	}
	return &simSource{s: s, app: app, source: "sim", model: model, tick: s.cfg.Tick, backfillTick: s.cfg.BackfillTick,
		backfill: backfill, start: start, ticks: s.cfg.Ticks, speed: s.cfg.Speed}, nil
}

var errDone = errors.New("source finished")

// Run runs the sources this member owns until ctx ends; a finished source
// keeps the service up (the push API still serves).
//
// Every collector started against the same NATS joins the "collector"
// group (bus.Share) and the members split the pull sources by app: a
// source runs only on the member its app goes to, stops when the app moves
// to another member (one joined) and starts on this one when the app comes
// to it (at once when its owner left, after 3 missed pings when it died).
// Nothing is lost or doubled in the move: a new owner resumes after the last tick
// METRICS holds for each tier (the simulated sources fill every grid point
// the old owner did not send), and a tick both send while their views of
// the group differ has one id, so JetStream stores it once.
func (s *Service) Run(ctx context.Context) error {
	kv, err := s.bus.Replicas(ctx)
	if err != nil {
		return err
	}
	s.runWall = s.Now()
	var share *bus.Share
	if len(s.sources) > 0 {
		if share, err = s.bus.Share(ctx, groupName); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		defer share.Close()
		s.share.Store(share)
	}
	view := s.view
	g, gctx := errgroup.WithContext(ctx)
	watching := make(chan struct{})
	g.Go(func() error { return view.watch(gctx, kv, func() { close(watching) }) })
	var mu sync.Mutex
	pending := len(s.sources)
	if pending == 0 {
		s.ready.Set("collector")
	}
	for _, src := range s.sources {
		g.Go(func() error {
			select {
			case <-watching:
			case <-gctx.Done():
				return nil
			}
			var once sync.Once
			return s.runOwned(gctx, share, src, view, func() {
				once.Do(func() {
					mu.Lock()
					defer mu.Unlock()
					if pending--; pending == 0 {
						s.ready.Set("collector")
					}
				})
			})
		})
	}
	return g.Wait()
}

// groupName is the group the collectors split their sources in.
const groupName = "collector"

// owner returns the member app's sources run on as this member sees the
// group, and this member's id; both are empty before Run has joined.
func (s *Service) owner(app string) (owner, self string) {
	sh := s.share.Load()
	if sh == nil {
		return "", ""
	}
	return sh.View().Owner(app), sh.Member()
}

// runOwned runs src whenever this member owns its app, until ctx ends. A
// source that fails stops the service; one that finished waits until its
// app moves (a later owner resumes it and finds it finished too).
func (s *Service) runOwned(ctx context.Context, share *bus.Share, src source, view *replicaView, ready func()) error {
	log := s.log.With().Str("source", src.name()).Str("member", share.Member()).Logger()
	for {
		v := share.View()
		if !v.Owns(src.key()) {
			ready() // nothing to do here until the app comes to this member
			select {
			case <-ctx.Done():
				return nil
			case <-v.Changed():
				continue
			}
		}
		log.Info().Strs("members", v.Members()).Msg("source taken")
		sctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- src.run(sctx, view, ready) }()
		var err error
		finished := false
	watch:
		for {
			select {
			case err = <-done:
				finished = true
				break watch
			case <-v.Changed():
				if v = share.View(); !v.Owns(src.key()) {
					log.Info().Str("owner", v.Owner(src.key())).Strs("members", v.Members()).Msg("source handed over")
					break watch
				}
			}
		}
		cancel()
		if !finished {
			err = <-done
		}
		if ctx.Err() != nil {
			return nil
		}
		if !finished {
			continue
		}
		if err != nil && !errors.Is(err, errDone) {
			return fmt.Errorf("%s: %w", src.name(), err)
		}
		for v.Owns(src.key()) { // finished: idle until the app moves
			select {
			case <-ctx.Done():
				return nil
			case <-v.Changed():
				v = share.View()
			}
		}
	}
}

// logEffective logs, once at start, every source the collector runs (with a
// scraped tier's targets) and whether the push API serves.
func (s *Service) logEffective() {
	for _, src := range s.sources {
		s.log.Info().Str("source", src.name()).Msg("collector source")
	}
	if s.cfg.File != nil {
		for _, a := range s.cfg.File.AppsWith(config.SourceScrape) {
			for _, t := range a.Tiers {
				// Named as the scrape's lines and metrics name them
				// (targetNames): without user information, which the log's
				// readers need not see, and told apart when that makes
				// two alike.
				s.log.Info().Str("app", a.Name).Str("tier", t.Name).Strs("targets", targetNames(t.Targets)).Dur("interval", a.Scrape.Interval).Msg("scrape targets")
			}
		}
		for _, a := range s.cfg.File.AppsWith(config.SourcePush) {
			s.log.Info().Str("app", a.Name).Msg("push app")
		}
	}
	pc := s.cfg.PushConfig()
	allApps, scoped := pushTokenNames(pc)
	s.log.Info().Bool("push_api", s.push != nil).Bool("push_token", pc.HasToken()).Strs("push_all_apps_tokens", allApps).Strs("push_scoped_tokens", scoped).
		Float64("push_rate_limit", pc.RateLimit).Int("push_rate_burst", pc.RateBurst).
		Float64("push_auth_fail_limit", pc.AuthFailLimit).Int("push_auth_fail_burst", pc.AuthFailBurst).Strs("push_trusted_proxies", pc.TrustedProxies).Str("push_forwarded_header", pc.ForwardedHeader).Msg("collector configuration")
}

// pushTokenNames names the push API's tokens, those that may push for
// every app apart: -push.token (or HEADROOM_PUSH_TOKEN) when the file sets
// no push.token of its own, the file's push.token, a token whose apps
// include a pattern of stars only. So the start's log shows an all-apps
// token left beside the scoped ones (the flag's stays valid beside a
// file's push.tokens).
func pushTokenNames(pc ingest.Config) (allApps, scoped []string) {
	if pc.Token != "" {
		allApps = append(allApps, "push.token (-push.token or HEADROOM_PUSH_TOKEN)")
	}
	for _, t := range pc.Tokens {
		if slices.ContainsFunc(t.Apps, func(p string) bool { return strings.Trim(p, "*") == "" }) {
			allApps = append(allApps, t.Name)
		} else {
			scoped = append(scoped, t.Name)
		}
	}
	return allApps, scoped
}
