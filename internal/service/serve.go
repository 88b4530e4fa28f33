package service

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
)

// Deps are what a service part is built from.
type Deps struct {
	Bus   *bus.Bus
	Log   zerolog.Logger
	Reg   prometheus.Registerer
	Ready *Ready
	// Mux is the service's HTTP mux, served on HTTPAddr; parts add their
	// routes. It also serves /healthz, /readyz and /metrics unless an ops
	// address (-ops.addr) gives those a listener of their own.
	Mux *http.ServeMux
	// Config is the configuration file given with -config, loaded and
	// validated once; nil without one. Parts take what concerns them.
	Config *config.File
	// HTTPAddr is the address Mux will be served on (-http.addr), so a
	// part can refuse to start open beyond loopback; "" when unknown.
	HTTPAddr string
}

// Runner is a long-running part: Run blocks until ctx ends and returns after
// cleaning up.
type Runner interface {
	Run(ctx context.Context) error
}

// Flusher is a Runner whose HTTP handlers may still log after Run has
// returned (the HTTP server stops after it): Flush writes what they
// counted but did not write yet. Main, and the all-in-one, call it once
// the HTTP server has stopped, its handlers returned.
type Flusher interface {
	Flush()
}

// Flush calls r's Flush when r is a Flusher: the caller calls it once
// the HTTP server serving r's routes has stopped.
func Flush(r Runner) {
	if f, ok := r.(Flusher); ok {
		f.Flush()
	}
}

// Spec describes a standalone service main.
type Spec struct {
	// Name is the service name (logs, NATS client name, durable names).
	Name string
	// Flags registers the service's own flags on f.
	Flags func(f *cli.Flags)
	// Check, when set, validates the service's settings once flags, the
	// environment and the configuration file (nil without -config) are
	// loaded, before Main connects to NATS: a bad setting fails the start
	// at once instead of after NATS answers. It calls the same validation
	// Build does. httpAddr is -http.addr, as Build gets it (Deps.HTTPAddr).
	Check func(file *config.File, httpAddr string) error
	// Build makes the service's runner once flags are parsed and the bus is up.
	Build func(ctx context.Context, d Deps) (Runner, error)
	// DefaultHTTPAddr is the default of -http.addr.
	DefaultHTTPAddr string
	// Leases, when set, says whether the service uses the executor's
	// lease bucket, given the configuration file (nil: none) once flags
	// are parsed: if so it waits for the bucket as for the streams
	// (bus.WithLeaseBucket). The other services do not, nor does an
	// executor whose driver takes no lease, so a bucket not provisioned
	// yet holds back only an executor that needs it.
	Leases func(file *config.File) bool
}

// Main runs a standalone service: parse flags (with HEADROOM_* fallbacks),
// check the settings (Spec.Check), build the logger, connect to NATS, ensure the streams, build the runner and
// run it beside the HTTP server (and the ops server, with -ops.addr) until
// ctx ends. Stop order: the runner drains its consumers first, then the
// HTTP server shuts down, then the ops server, then the bus waits for
// pending publishes and drains the connection.
func Main(ctx context.Context, spec Spec, args []string, getenv cli.Getenv) error {
	f := cli.New(spec.Name, getenv)
	busCfg := bus.DefaultConfig()
	busCfg.RegisterFlags(f)
	var httpAddr, opsAddr, level string
	f.String(&httpAddr, "http.addr", spec.DefaultHTTPAddr, "address of the service's routes, and of /healthz, /readyz, /metrics unless -ops.addr is set")
	f.String(&opsAddr, "ops.addr", "", "address of /healthz, /readyz and /metrics alone, away from -http.addr's clients and connection cap (\"\": on -http.addr)")
	f.String(&level, "log.level", "info", "log level: debug, info, warn, error")
	timeouts := DefaultTimeouts()
	timeouts.RegisterFlags(f)
	if spec.Flags != nil {
		spec.Flags(f)
	}
	// Every service accepts the shared configuration file, so one command
	// line fits all of them: it is loaded and validated here, once, and
	// each service takes what concerns it from Deps.Config.
	var configFile string
	f.String(&configFile, "config", "", "YAML configuration file: apps, tiers, sources, policies, modes (see deploy/headroom.yaml)")
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var file *config.File
	if configFile != "" {
		var err error
		if file, err = config.Load(configFile); err != nil {
			return err
		}
	}
	busCfg.Name = spec.Name
	if err := busCfg.Validate(); err != nil {
		return err
	}
	if spec.Check != nil {
		if err := spec.Check(file, httpAddr); err != nil {
			return err
		}
	}
	if err := CheckOpsAddr(httpAddr, opsAddr); err != nil {
		return err
	}
	log, err := NewLogger(nil, spec.Name, level)
	if err != nil {
		return fmt.Errorf("log.level: %w", err)
	}
	log.Info().Interface("nats", busCfg.Redacted()).Str("http_addr", httpAddr).Str("ops_addr", opsAddr).Msg("starting")

	reg := NewRegistry()
	ready := NewReady()
	b, err := bus.Connect(ctx, busCfg, log, reg)
	if err != nil {
		return err
	}
	defer func() {
		if err := b.Close(10 * time.Second); err != nil {
			log.Error().Err(err).Msg("close bus")
		}
	}()
	ready.Check("nats", b.ConnErr)
	ready.Check("partitions", b.PartitionsErr) // a group member's share not consumed
	ready.Wait("streams")
	// Serve /healthz and /readyz (on the ops listener, with -ops.addr)
	// before NATS answers: an orchestrator sees the process alive and the
	// reason it is not ready.
	// Until the runner is built, the service's routes answer 503
	// "starting" rather than 404 (Servers.Starting).
	starting := NewStarting("waiting for nats")
	srv := NewServers(opsAddr, ready, reg)
	srv.Starting = starting
	ready.Check("starting", starting.Err)
	if err := srv.Listen(httpAddr, log, timeouts); err != nil {
		return err
	}
	mux := srv.Mux
	httpCtx, stopHTTP := context.WithCancel(context.Background())
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Run(httpCtx) }()
	stopHTTPNow := func() error {
		stopHTTP()
		return <-httpDone
	}
	// A stop asked while waiting for NATS or the streams, or while
	// building, is a normal stop.
	stoppedWaiting := func(err error) error {
		if ctx.Err() != nil {
			log.Info().Err(err).Msg("stopped while starting")
			return stopHTTPNow()
		}
		return errors.Join(err, stopHTTPNow())
	}
	if err := b.WaitConnected(ctx, 5*time.Second); err != nil {
		return stoppedWaiting(err)
	}
	// The "starting" check comes before the parts /readyz waits for:
	// it names the streams itself rather than still NATS.
	if busCfg.Provision {
		starting.Step("provisioning the streams")
		err = b.Provision(ctx)
	} else {
		starting.Step("waiting for the streams")
		var opts []bus.WaitOption
		if spec.Leases != nil && spec.Leases(file) {
			opts = append(opts, bus.WithLeaseBucket())
		}
		err = b.WaitStreams(ctx, 5*time.Second, opts...)
	}
	if err != nil {
		return stoppedWaiting(err)
	}
	ready.Set("streams")
	starting.Step("building " + spec.Name)
	r, err := spec.Build(ctx, Deps{Bus: b, Log: log, Reg: reg, Ready: ready, Mux: mux, Config: file, HTTPAddr: httpAddr})
	if err == nil {
		// A stop asked during the build is a stop while starting too:
		// what was built does not run on an ended context, but its
		// handlers served until the HTTP server stopped, so what they
		// counted is written then (Flusher), as after a run.
		if err = ctx.Err(); err != nil {
			err = stoppedWaiting(err)
			Flush(r)
			return err
		}
	}
	if err != nil {
		return stoppedWaiting(err)
	}
	starting.Done()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer stopHTTP() // HTTP (ops last) stops after the runner has drained.
		return r.Run(gctx)
	})
	g.Go(func() error { return <-httpDone })
	err = g.Wait()
	// The HTTP server has stopped: what its handlers counted after the
	// runner returned is written now (Flusher).
	Flush(r)
	log.Info().Msg("stopped")
	return err
}
