package allinone

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/decider"
	"github.com/headroomhq/headroom/internal/detector"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/hostcheck"
	"github.com/headroomhq/headroom/internal/service"
)

// Config configures the all-in-one.
type Config struct {
	HTTPAddr string
	// OpsAddr, when set, serves /healthz, /readyz and /metrics on a
	// listener of their own instead of HTTPAddr (service.NewServers).
	OpsAddr  string
	NATSAddr string
	DataDir  string
	NATSLogs bool
	// ConfigFile is a configuration file (internal/config): its apps'
	// sources run in the collector and their policies in the decider.
	ConfigFile string
	// Bus carries the subject prefix and stream limits (its URL is ignored:
	// the services connect to the embedded server).
	Bus        bus.Config
	Collector  collector.Config
	Forecaster forecaster.Config
	Anomaly    detector.Config
	Decider    decider.Config
	Executor   executor.Config
	Gateway    gateway.Config
	// Without lists services not to start (e.g. "decider"), for tests and
	// for running one part elsewhere.
	Without map[string]bool

	// buildHook, when set (tests, export_test.go), runs before each start
	// step ("nats", then each part by name) with where the system
	// listens; an error fails the step. After a failed step it runs once
	// more, as "failed", when the buses and NATS have closed, before the
	// listeners close.
	buildHook func(step string, sys System) error
}

// DefaultConfig serves on 127.0.0.1:8080 with NATS on 127.0.0.1:4222 and
// data under ./data.
func DefaultConfig() Config {
	return Config{
		HTTPAddr: "127.0.0.1:8080", NATSAddr: "127.0.0.1:4222", DataDir: "data",
		Bus: bus.DefaultConfig(), Collector: collector.DefaultConfig(), Forecaster: forecaster.DefaultConfig(),
		Anomaly: detector.DefaultConfig(), Decider: decider.DefaultConfig(), Executor: executor.DefaultConfig(),
		Gateway: gateway.DefaultConfig(), Without: map[string]bool{},
	}
}

// RegisterFlags adds every flag of the all-in-one.
func (c *Config) RegisterFlags(f *cli.Flags) {
	d := DefaultConfig()
	f.String(&c.HTTPAddr, "http.addr", d.HTTPAddr, "address of the dashboard, WebSocket, push API, and of /healthz, /readyz, /metrics unless -ops.addr is set")
	f.String(&c.OpsAddr, "ops.addr", "", "address of /healthz, /readyz and /metrics alone, away from -http.addr's clients (\"\": on -http.addr)")
	f.String(&c.NATSAddr, "nats.addr", d.NATSAddr, "address of the embedded NATS server, for outside tools")
	f.String(&c.DataDir, "data", d.DataDir, "folder for the embedded JetStream store")
	f.Bool(&c.NATSLogs, "nats.log", false, "show the embedded NATS server's log")
	f.String(&c.ConfigFile, "config", "", "YAML configuration file: apps, tiers, sources, per-tier policies (see deploy/headroom.yaml)")
	f.String(&c.Bus.Prefix, "subject.prefix", d.Bus.Prefix, "first token of every subject")
	f.Duration(&c.Bus.Streams.MaxAge, "stream.max-age", d.Bus.Streams.MaxAge, "drop recorded messages older than this")
	f.Int64(&c.Bus.Streams.MaxBytes, "stream.max-bytes", d.Bus.Streams.MaxBytes, "cap on each stream's size in bytes (-1: none)")
	f.Int64(&c.Bus.Streams.MaxMsgsPerSeries, "stream.max-msgs-per-series", d.Bus.Streams.MaxMsgsPerSeries, bus.MaxMsgsPerSeriesUsage)
	c.Collector.RegisterFlags(f)
	c.Forecaster.RegisterFlags(f)
	c.Decider.RegisterFlags(f)
	c.Executor.RegisterFlags(f)
	c.Gateway.RegisterFlags(f)
}

// System is a running all-in-one.
type System struct {
	// HTTPAddr and NATSURL are where it listens (useful with ":0" ports).
	HTTPAddr string
	// OpsAddr is where /healthz, /readyz and /metrics listen with
	// Config.OpsAddr set; "" when they are on HTTPAddr.
	OpsAddr string
	NATSURL string
	// NATSUser and NATSPassword are the all-in-one's own identity on the
	// embedded server, made anew each run, for embedders and tests that
	// run a part of their own beside it. Clients without credentials are
	// read-only observers.
	NATSUser, NATSPassword string
	// Ready reports when every part is up.
	Ready *service.Ready
}

type part struct {
	name string
	bus  *bus.Bus
	run  service.Runner
}

// Run starts everything and runs until ctx ends. It listens first, before
// the embedded NATS server starts: an address in use is refused before
// anything else starts, /healthz answers at once and /readyz answers 503
// naming the step under way ("starting: building decider") until every
// part is built and the usual checks pass; the other routes answer 503
// "starting" until then. If a step fails, Run returns its error once
// what it opened has closed, the listeners last: meanwhile /readyz answers
// 503 "starting: failed: <step>: <error>", the other routes 503 "failed to
// start", and /healthz 200 (the process is alive and exits on its own).
// If ctx ends before every part is built (while NATS starts, too), Run builds
// no more, closes what it opened and returns nil, a normal stop. Run
// calls started once every part is built, as it begins running them. Stop order: the source stops first, consumers
// drain and settle their acks, the HTTP server shuts down, then the ops
// server (with OpsAddr), each bus waits for pending publishes and drains
// its connection, and last the embedded server stops.
func Run(ctx context.Context, cfg Config, log zerolog.Logger, started func(*System)) error {
	var file *config.File
	if cfg.ConfigFile != "" {
		var err error
		if file, err = config.Load(cfg.ConfigFile); err != nil {
			return err
		}
	}
	// Every refusal of a setting or secret in one error: a start is not
	// refused once per fault fixed.
	// checkParts checks what actSafely adjusts as adjusted, so it runs
	// after.
	safe := cfg.actSafely(file)
	if err := errors.Join(safe, cfg.checkParts(file)); err != nil {
		return err
	}
	if err := service.CheckOpsAddr(cfg.HTTPAddr, cfg.OpsAddr); err != nil {
		return err
	}
	reg := service.NewRegistry()
	ready := service.NewReady()
	starting := service.NewStarting("starting nats")
	// Before every other check: a failed start is the answer while its
	// parts' buses close (their "nats" check failing with them).
	ready.Precheck("starting", starting.Err)
	servers := service.NewServers(cfg.OpsAddr, ready, reg)
	servers.Starting = starting
	mux := servers.Mux
	if err := servers.Listen(cfg.HTTPAddr, log, service.DefaultTimeouts()); err != nil {
		return err
	}
	live := serveNow(servers)
	// Until serve takes them over, a failed start closes the listeners
	// (stop is idempotent: after serve it returns at once).
	defer func() { _ = live.stop() }()
	sys := &System{HTTPAddr: servers.HTTP.Addr(), OpsAddr: servers.OpsAddr(), Ready: ready}
	failed := false
	// Runs after the buses and NATS have closed, just before the
	// listeners do.
	defer func() {
		if failed && cfg.buildHook != nil {
			_ = cfg.buildHook("failed", *sys)
		}
	}()
	// A stop asked before every part is built (SIGTERM during a slow
	// start) is a normal stop, as in service.Main: no further step runs,
	// started is not called, what was opened closes and Run returns nil.
	// A step that failed otherwise is a failed start: /readyz says so
	// (not "starting") while what was opened closes, the listeners last.
	stopped := func(err error) error {
		if ctx.Err() != nil {
			log.Info().Err(err).Msg("stopped while starting")
			return nil
		}
		starting.Fail(err)
		failed = true
		return err
	}
	step := func(name, doing string) error {
		starting.Step(doing)
		if err := live.failed(); err != nil {
			return fmt.Errorf("while %s: %w", doing, err)
		}
		if cfg.buildHook != nil {
			if err := cfg.buildHook(name, *sys); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("before %s: %w", doing, err)
		}
		return nil
	}

	if err := step("nats", "starting nats"); err != nil {
		return stopped(err)
	}
	password := randomSecret()
	ns, err := startNATS(cfg.NATSAddr, cfg.DataDir, cfg.NATSLogs, log, cfg.Bus.Prefix, cfg.Bus.Streams.Partitions,
		maxConsumers(cfg.Bus.Streams.Partitions, cfg.Gateway.HistoryConcurrency), cfg.Bus.Streams.Reservations(cfg.Bus.Prefix), password)
	if err != nil {
		return stopped(err)
	}
	logStore(log, ns, cfg.DataDir, cfg.Bus.Streams)
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
		log.Info().Msg("nats server stopped")
	}()
	sys.NATSURL, sys.NATSUser, sys.NATSPassword = ns.ClientURL(), internalUser, password

	var parts []part
	defer func() {
		for i := len(parts) - 1; i >= 0; i-- {
			if err := parts[i].bus.Close(10 * time.Second); err != nil {
				log.Error().Err(err).Str("part", parts[i].name).Msg("close bus")
			}
		}
	}()
	add := func(name string, build func(service.Deps) (service.Runner, error)) error {
		if cfg.Without[name] {
			return nil
		}
		if err := step(name, "building "+name); err != nil {
			return err
		}
		bc := cfg.partBus(ns.ClientURL(), name, password)
		plog := log.With().Str("component", name).Logger()
		b, err := bus.Connect(ctx, bc, plog, reg)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		parts = append(parts, part{name: name, bus: b})
		if err := b.WaitConnected(ctx, 5*time.Second); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if len(parts) == 1 {
			// The all-in-one is its own provisioning identity.
			if err := b.Provision(ctx); err != nil {
				return err
			}
			ready.Check("nats", b.ConnErr)
		}
		ready.Check(name+" partitions", b.PartitionsErr)
		r, err := build(service.Deps{Bus: b, Log: plog, Reg: reg, Ready: ready, Mux: mux, Config: file, HTTPAddr: cfg.HTTPAddr})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		parts[len(parts)-1].run = r
		return nil
	}
	steps := []struct {
		name  string
		build func(service.Deps) (service.Runner, error)
	}{
		{"executor", func(d service.Deps) (service.Runner, error) { return executor.New(cfg.Executor, d) }},
		{"decider", func(d service.Deps) (service.Runner, error) { return decider.New(cfg.Decider, d) }},
		{"forecaster", func(d service.Deps) (service.Runner, error) { return forecaster.New(cfg.Forecaster, d) }},
		{"anomaly", func(d service.Deps) (service.Runner, error) { return detector.New(cfg.Anomaly, d) }},
		{"gateway", func(d service.Deps) (service.Runner, error) { return gateway.New(cfg.Gateway, d) }},
		{"collector", func(d service.Deps) (service.Runner, error) { return collector.New(cfg.Collector, d) }},
	}
	for _, s := range steps {
		if err := add(s.name, s.build); err != nil {
			return stopped(err)
		}
	}
	if err := ctx.Err(); err != nil {
		return stopped(err)
	}
	starting.Done()
	log.Info().Str("http_addr", sys.HTTPAddr).Str("ops_addr", sys.OpsAddr).Msg("every part built")
	if started != nil {
		started(sys)
	}
	return serve(ctx, parts, live)
}

// liveServers are servers already serving (the all-in-one listens before
// it builds its parts), as a service.Runner for serve.
type liveServers struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error // set before done closes
}

// serveNow runs s until stop.
func serveNow(s service.Runner) *liveServers {
	ctx, cancel := context.WithCancel(context.Background())
	l := &liveServers{cancel: cancel, done: make(chan struct{})}
	go func() {
		l.err = s.Run(ctx)
		close(l.done)
	}()
	return l
}

// Run waits for ctx to end, then stops the servers; it returns at once
// with their error if they failed first.
func (l *liveServers) Run(ctx context.Context) error {
	select {
	case <-l.done:
		return l.err
	case <-ctx.Done():
	}
	return l.stop()
}

// stop shuts the servers down and returns their error; it may be called
// again.
func (l *liveServers) stop() error {
	l.cancel()
	<-l.done
	return l.err
}

// failed returns the servers' error if they have stopped on their own
// (a listener gone), nil while they serve.
func (l *liveServers) failed() error {
	select {
	case <-l.done:
		if l.err == nil {
			return fmt.Errorf("http servers stopped")
		}
		return l.err
	default:
		return nil
	}
}

// serve runs the parts beside the servers until ctx ends or one of them
// fails. A part's failure stops the others; a server's failure (its
// listener gone: the dashboard, or with -ops.addr the probes) stops the
// parts too, rather than leaving the all-in-one running without them.
// The servers stop once every part has returned, so the probes answer
// while the parts drain; then the parts that are service.Flushers are
// flushed.
func serve(ctx context.Context, parts []part, servers service.Runner) error {
	g, gctx := errgroup.WithContext(ctx)
	httpCtx, stopHTTP := context.WithCancel(context.Background())
	defer stopHTTP()
	var running sync.WaitGroup
	for _, p := range parts {
		running.Add(1)
		g.Go(func() error {
			defer running.Done()
			if err := p.run.Run(gctx); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
			return nil
		})
	}
	g.Go(func() error {
		running.Wait()
		stopHTTP()
		return nil
	})
	g.Go(func() error { return servers.Run(httpCtx) })
	err := g.Wait()
	// The servers have stopped (every goroutine of g has returned): what
	// the parts' handlers counted after their Run returned (the gateway's
	// refusals) is written now (service.Flusher).
	for _, p := range parts {
		service.Flush(p.run)
	}
	// A part stopped by the stop itself, before it was running (the
	// executor's and the collector's first read of the replica bucket on
	// an ended context), says "context canceled": that is the stop, not a
	// failure. A part that failed on its own ended gctx, not ctx, first.
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}

// partBus is the bus configuration each part connects to the embedded
// server at url with, as name.
func (c Config) partBus(url, name, password string) bus.Config {
	bc := c.Bus
	bc.URL, bc.Name = url, name
	bc.User, bc.Password = internalUser, password
	// Not the observer's _INBOX: an outside client cannot read the
	// parts' consumer deliveries.
	bc.InboxPrefix = internalInbox
	return bc
}

// checkParts validates the settings of every part to be started, as its
// New will once NATS is up, so that a bad one fails the start before the
// embedded server starts or the data folder is made. (actSafely
// validates the gateway's settings, so its check here is only whether its
// dashboard needs a token; the anomaly service has none of its own;
// what actSafely adjusts is checked as adjusted.) The bus settings every
// part connects with (the stream flags, the subject prefix) come first,
// as bus.Connect checks them. Every part is checked and every refusal
// reported in one error (with actSafely's, by Run), so that a start beyond
// loopback without the push token nor the gateway token, or with a gateway
// token too short and no push token, names both secrets at once.
func (c Config) checkParts(file *config.File) error {
	var errs []error
	if err := c.partBus("nats://"+c.NATSAddr, "headroom", "checked").Validate(); err != nil {
		errs = append(errs, fmt.Errorf("bus: %w", err))
	}
	checks := []struct {
		name  string
		check func() error
	}{
		{"executor", func() error { return c.Executor.ValidateWith(file) }},
		{"decider", func() error { return c.Decider.ValidateWith(file) }},
		{"forecaster", c.Forecaster.Validate},
		{"collector", func() error { return c.Collector.CheckServing(file, c.HTTPAddr) }},
		{"gateway", func() error { return c.Gateway.RequireTokenOn(c.HTTPAddr) }},
	}
	for _, p := range checks {
		if c.Without[p.name] {
			continue
		}
		if err := p.check(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.name, err))
		}
	}
	return errors.Join(errs...)
}

// actSafely fits the executor and the push API to what is configured: a
// real driver acts in wall-clock time, so it refuses simulated time running
// faster than real time and makes the push API require a token; with the
// simulated cluster at speed > 1, event times legitimately run ahead of the
// wall clock, so the executor's future-skew check is off. The push API
// gets the gateway's Host allowlist (-gateway.allowed-hosts). It adjusts
// what it can even when it refuses, so that checkParts' refusals can be
// reported with its own (Run).
func (c *Config) actSafely(file *config.File) error {
	// The push API answers the same Host names as the dashboard it shares
	// the listener with (DNS rebinding, internal/hostcheck).
	gwErr := c.Gateway.Validate()
	if hostcheck.Check("gateway.allowed-hosts", c.Gateway.AllowedHosts) == nil {
		// Hosts the gateway refuses are its refusal alone: copied, the
		// push API's check would name them again as its own setting.
		c.Collector.Push.AllowedHosts = c.Gateway.AllowedHosts
	}
	exec := c.Executor
	if file != nil {
		exec = exec.WithFile(file)
	}
	real := exec.Driver != executor.DriverSim
	c.Collector.RealDriverLive, c.Collector.KnowsDriver = real && len(exec.Authority) > 0, true
	switch {
	case real && c.Collector.Speed != 1:
		return errors.Join(gwErr, fmt.Errorf("executor.driver %s acts on real infrastructure in real time: -speed must be 1, not %v", exec.Driver, c.Collector.Speed))
	case c.Collector.Speed != 1:
		c.Executor.MaxFutureSkew = 0
	}
	return gwErr
}
