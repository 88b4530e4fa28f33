package tierstage_test

import (
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/internal/tierstage"
	"github.com/headroomhq/headroom/internal/tierstage/tierstagetest"
	"github.com/headroomhq/headroom/proto"
)

// echo is a stage whose output is an empty anomaly message per tick, and
// which, like the real stages, outputs nothing for a tick at or before the
// last output stored for its tier.
type echo struct {
	mu   sync.Mutex
	sent map[string]time.Time // per tier, from SetSent
	made int                  // outputs made
}

func newEcho() *echo { return &echo{sent: map[string]time.Time{}} }

func (e *echo) Arrive(time.Time) {}

func (e *echo) SetSent(app, tier string, t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sent[app+"."+tier] = t
}

func (e *echo) Forget(string) {}

func (e *echo) HoldsApp(string) bool { return true }

func (e *echo) Returning(string, string) bool { return false }

func (e *echo) step(tick *proto.Metrics) (proto.Message, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.sent[tick.App+"."+tick.Tier]; ok && !tick.EventTime().After(s) {
		return nil, nil
	}
	e.made++
	return &proto.Anomaly{V: proto.SchemaVersion, ID: proto.AnomalyID(tick.App, tick.Tier, tick.TS), App: tick.App, Tier: tick.Tier, TS: tick.TS}, nil
}

func (e *echo) harness() tierstagetest.Harness {
	return tierstagetest.Harness{
		Name: "echo", Output: proto.KindAnomaly,
		NewOutput: func() proto.Keyed { return &proto.Anomaly{} },
		New: func(d service.Deps) (tierstagetest.Stage, error) {
			return tierstage.New(tierstage.Spec{Name: "echo", Output: proto.KindAnomaly, Lookback: time.Hour, State: e, Step: e.step}, d)
		},
	}
}

// TestRestartLoadsWhatWasStored: a second process of a stage learns, before
// its rebuild replays the recorded ticks, the last output stored on each
// tier's subject, so the rebuild makes none of them again; only the ticks
// that came while no process ran make outputs.
func TestRestartLoadsWhatWasStored(t *testing.T) {
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	b := natstest.Bus(t, "echo", log)

	first := newEcho()
	r := first.harness().Start(t, b, log)
	tierstagetest.PublishTicks(t, b, 0, 30)
	first.harness().Stored(t, b, tierstagetest.TickTime(29))
	r.Stop(t)

	tierstagetest.PublishTicks(t, b, 30, 40)
	second := newEcho()
	r = second.harness().Start(t, b, log)
	got := second.harness().Stored(t, b, tierstagetest.TickTime(39))
	r.Stop(t)

	for _, tier := range tierstagetest.Tiers {
		if s := second.sent[tierstagetest.App+"."+tier]; !s.Equal(tierstagetest.TickTime(29)) {
			t.Errorf("%s: the second process was told outputs up to %s were stored, want %s", tier, s.Format("15:04"), tierstagetest.TickTime(29).Format("15:04"))
		}
	}
	if want := 10 * len(tierstagetest.Tiers); second.made != want {
		t.Errorf("the second process made %d outputs, want %d (the ticks that came while none ran)", second.made, want)
	}
	want := make([]time.Time, 40)
	for i := range want {
		want[i] = tierstagetest.TickTime(i)
	}
	tierstagetest.ExactlyOnce(t, got, want)
}

// TestNewRefusesAnIncompleteSpec: a stage without a name, an output kind,
// a state or a step is a programming error, reported at build time.
func TestNewRefusesAnIncompleteSpec(t *testing.T) {
	e := newEcho()
	full := tierstage.Spec{Name: "echo", Output: proto.KindAnomaly, State: e, Step: e.step}
	for name, mutate := range map[string]func(*tierstage.Spec){
		"no name":   func(s *tierstage.Spec) { s.Name = "" },
		"no output": func(s *tierstage.Spec) { s.Output = "" },
		"no state":  func(s *tierstage.Spec) { s.State = nil },
		"no step":   func(s *tierstage.Spec) { s.Step = nil },
	} {
		s := full
		mutate(&s)
		if _, err := tierstage.New(s, service.Deps{Log: zerolog.Nop(), Ready: service.NewReady()}); err == nil {
			t.Errorf("%s: built", name)
		}
	}
}
