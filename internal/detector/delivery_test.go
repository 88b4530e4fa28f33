package detector

import (
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/outbox"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/internal/tierstage/tierstagetest"
	"github.com/headroomhq/headroom/proto"
)

var t0 = tierstagetest.T0

func tickTime(i int) time.Time { return tierstagetest.TickTime(i) }

// harness runs the anomaly service as a process on a test's server, its
// outbox quick to retry and to give up on stopping.
var harness = tierstagetest.Harness{
	Name: "anomaly", Output: proto.KindAnomaly,
	NewOutput: func() proto.Keyed { return &proto.Anomaly{} },
	New: func(d service.Deps) (tierstagetest.Stage, error) {
		cfg := DefaultConfig()
		cfg.Outbox = outbox.Config{AttemptTimeout: 500 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, DrainTimeout: 100 * time.Millisecond}
		return New(cfg, d)
	},
}

// run is one anomaly service process.
type run struct {
	*tierstagetest.Run
	svc *Service
}

func start(t *testing.T, b *bus.Bus, log zerolog.Logger) *run {
	r := harness.Start(t, b, log)
	return &run{Run: r, svc: r.Stage.(*Service)}
}

// stored waits until every tier's last stored output is tick last, then
// returns the event times of every stored output per tier, in stream order.
func stored(t *testing.T, b *bus.Bus, last int) map[string][]time.Time {
	t.Helper()
	return harness.Stored(t, b, tickTime(last))
}

// exactlyOnce checks that every tick 0..last has exactly one output per
// tier, stored in event-time order.
func exactlyOnce(t *testing.T, got map[string][]time.Time, last int) {
	t.Helper()
	want := make([]time.Time, last+1)
	for i := range want {
		want[i] = tickTime(i)
	}
	tierstagetest.ExactlyOnce(t, got, want)
}

// TestOutputsSurviveFailedPublishes makes the anomaly service's output
// publishes fail twice while ticks keep arriving: once recovered live, once
// across a restart of the service while its outputs were still unstored.
// Every tick must end with exactly one stored output per tier, in order.
func TestOutputsSurviveFailedPublishes(t *testing.T) {
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	harness.SurviveFailedPublishes(t, natstest.Bus(t, "anomaly", log), log, 40, tickTime)
}

// TestDecodeChecksSubject sends a tick whose payload names another app than
// its subject: it goes to the dead-letter queue and scores nothing.
func TestDecodeChecksSubject(t *testing.T) {
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	s, victim := harness.ForgedTickRefused(t, natstest.Bus(t, "anomaly", log), log)
	if s.(*Service).tiers.Has(victim, "web") {
		t.Fatal("the forged app was scored")
	}
}
