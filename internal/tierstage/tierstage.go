// Package tierstage runs a stage that keeps state per tier from the metrics
// stream and stores one output per tick: the forecaster and the anomaly
// service. Both need the same things of the bus, and this package holds
// them once:
//
//   - the stage shares its work with a group (bus.GroupSpec): taking a
//     partition over, it loads the last event time stored on each of the
//     partition's output subjects (State.SetSent) and rebuilds its state by
//     replaying the partition's recorded ticks, so the rebuild stores no
//     output twice; handing one over, it drops the state of its apps;
//   - a tier evicted for idleness that comes back is rebuilt from its
//     recorded ticks first (State.Returning), and counted;
//   - outputs go to an outbox, which stores them in order on each subject
//     whatever happens to the publishes, and acknowledges a tick only once
//     its output is stored (bus.Msg.Defer), so the partition durable's
//     acknowledgement floor never passes an output that could be lost; on
//     shutdown the outbox gets a few seconds to store what is left, and
//     what it cannot is made again by the next owner, to whom its ticks
//     are redelivered.
//
// The stage itself is a State and a Step; the algorithms stay in their own
// pure packages.
package tierstage

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/outbox"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// State is what the runtime needs of a stage's per-tier state.
type State interface {
	// Arrive gives the stored time of the next input (idle tiers are
	// evicted by arrival time).
	Arrive(t time.Time)
	// SetSent records that app.tier's outputs up to event time t were
	// stored before: replayed ticks up to there rebuild state only.
	SetSent(app, tier string, t time.Time)
	// Forget drops the state of app's tiers.
	Forget(app string)
	// HoldsApp says whether state of any tier of app is held: the runtime
	// forgets the partition of an app that is not (bus.AppPartitions).
	HoldsApp(app string) bool
	// Returning reports, once, that app.tier was evicted for idleness and
	// is back.
	Returning(app, tier string) bool
}

// Step folds one tick into the stage's state and returns the tick's output,
// or nil when the tick makes none. An error refuses the tick for good (it
// goes to the dead-letter queue).
type Step func(tick *proto.Metrics) (proto.Message, error)

// Spec describes a stage.
type Spec struct {
	// Name names the service, its consumer and its outbox, and prefixes its
	// metrics (headroom_<Name>_…).
	Name string
	// Output is the kind of message the stage stores, on
	// proto.Subject(prefix, Output, app, tier).
	Output proto.Kind
	// Lookback is how far back a rebuild replays the recorded ticks.
	Lookback time.Duration
	// Outbox bounds the outputs waiting to be stored (zero: its defaults).
	Outbox outbox.Config
	// State is the stage's per-tier state; Step its handling of a tick.
	State State
	Step  Step
}

// Runtime wires a Spec to the bus.
type Runtime struct {
	spec     Spec
	bus      *bus.Bus
	log      zerolog.Logger
	ready    *service.Ready
	out      *outbox.Outbox
	apps     bus.AppPartitions // partition of each app held, to hand over
	returned prometheus.Counter
}

// New builds the runtime of spec with the service's dependencies; it
// registers its metrics and marks the stage not ready until its consumer
// runs, and starts nothing.
func New(spec Spec, d service.Deps) (*Runtime, error) {
	if spec.Name == "" || spec.Output == "" || spec.State == nil || spec.Step == nil {
		return nil, fmt.Errorf("tierstage: a spec needs a name, an output kind, a state and a step")
	}
	r := &Runtime{spec: spec, bus: d.Bus, log: d.Log.With().Str("part", spec.Name).Logger(), ready: d.Ready,
		returned: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_" + spec.Name + "_returning_tiers_total",
			Help: "Tiers evicted for idleness that came back and were rebuilt from their recorded ticks."})}
	r.apps.Held = spec.State.HoldsApp
	if d.Reg != nil {
		if err := d.Reg.Register(r.returned); err != nil {
			return nil, fmt.Errorf("%s: %w", spec.Name, err)
		}
	}
	var err error
	if r.out, err = outbox.New(spec.Outbox, d.Bus, spec.Name, r.log, d.Reg); err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	d.Ready.Wait(spec.Name)
	return r, nil
}

// Pending returns how many outputs wait to be stored.
func (r *Runtime) Pending() int { return r.out.Pending() }

// Blocked returns how many output subjects wait on a refused output
// (outbox.Outbox.Blocked).
func (r *Runtime) Blocked() int { return r.out.Blocked() }

// Run consumes the metrics stream until ctx ends: rebuilding state on each
// partition taken over, then handling live ticks. Outputs are stored by
// the outbox, in order; on shutdown it gets a few seconds to store what is
// left (what it cannot is made again by the next start's replay).
func (r *Runtime) Run(ctx context.Context) error {
	octx, stop := context.WithCancel(context.WithoutCancel(ctx))
	stored := make(chan struct{})
	go func() {
		defer close(stored)
		r.out.Run(octx)
	}()
	err := r.bus.Consume(ctx, bus.ConsumerSpec{
		Service: r.spec.Name, Name: r.spec.Name, Kind: proto.KindMetrics,
		Started: func() { r.ready.Set(r.spec.Name) },
		Group: &bus.GroupSpec{Rebuild: true, Lookback: r.spec.Lookback, Acquire: r.acquire, Release: r.release,
			Returning: r.bus.TierReturning(r.spec.State.Returning, r.returned.Inc)},
	}, r.handle)
	if left := r.out.Drain(octx); left > 0 {
		r.log.Warn().Int("outputs", left).Msg("stopping with outputs not stored; the next start makes them again")
	}
	stop()
	<-stored
	return err
}

// acquire loads what was stored for partition p's tiers, so its rebuild
// stores no output twice.
func (r *Runtime) acquire(ctx context.Context, p int) error {
	k := r.spec.Output
	sent, err := r.bus.LastEventTimes(ctx, k, proto.PartitionFilter(r.bus.Prefix(), k, p))
	if err != nil {
		return err
	}
	for subj, t := range sent {
		if _, app, tier, err := proto.ParseSubject(r.bus.Prefix(), subj); err == nil {
			r.spec.State.SetSent(app, tier, t)
		}
	}
	return nil
}

// release drops the state of partition p's apps, handed to another member.
func (r *Runtime) release(p int) {
	for _, app := range r.apps.Take(p) {
		r.spec.State.Forget(app)
	}
}

// handle folds one tick into its tier's state and queues the tick's output
// in the outbox, which stores it whatever happens and only then
// acknowledges the tick. A tick without an output is acknowledged at once.
func (r *Runtime) handle(ctx context.Context, m *bus.Msg) ([]bus.Out, error) {
	var tick proto.Metrics
	if err := r.bus.Decode(m, proto.KindMetrics, &tick); err != nil {
		return nil, err
	}
	r.apps.Note(tick.App, m.Partition)
	r.spec.State.Arrive(m.Stored)
	out, err := r.spec.Step(&tick)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	if out == nil {
		return nil, nil
	}
	subject := proto.Subject(r.bus.Prefix(), r.spec.Output, tick.App, tick.Tier)
	if err := r.out.AddThen(ctx, bus.Out{Subject: subject, Msg: out}, m.Defer()); err != nil {
		// Only when stopping with a full outbox: this tick's output is
		// lost to this process; the next start's replay makes it again.
		return nil, err
	}
	return nil, nil
}
