package forecaster

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

var tiers = tierstagetest.Tiers

func tickTime(i int) time.Time { return tierstagetest.TickTime(i) }

// bucket is the start of tick i's five-minute bucket: the origin of the
// forecast the tick that opens it makes.
func bucket(i int) time.Time { return tickTime(i).Truncate(5 * time.Minute) }

// harness runs the forecaster as a process on a test's server, its outbox
// quick to retry and to give up on stopping.
var harness = tierstagetest.Harness{
	Name: "forecaster", Output: proto.KindForecast,
	NewOutput: func() proto.Keyed { return &proto.Forecast{} },
	New: func(d service.Deps) (tierstagetest.Stage, error) {
		cfg := DefaultConfig()
		cfg.Outbox = outbox.Config{MaxBackoff: 50 * time.Millisecond, DrainTimeout: 100 * time.Millisecond}
		return New(cfg, d)
	},
}

// stored waits until every tier's last stored forecast is for the bucket of
// tick last, then returns the origins of every stored forecast per tier, in
// stream order.
func stored(t *testing.T, b *bus.Bus, last int) map[string][]time.Time {
	t.Helper()
	return harness.Stored(t, b, bucket(last))
}

// exactlyOnce checks that every bucket of ticks 0..last has exactly one
// forecast per tier, stored in order.
func exactlyOnce(t *testing.T, got map[string][]time.Time, last int) {
	t.Helper()
	var want []time.Time
	for i := 0; i <= last; i++ {
		if b := bucket(i); len(want) == 0 || !want[len(want)-1].Equal(b) {
			want = append(want, b)
		}
	}
	tierstagetest.ExactlyOnce(t, got, want)
}

// TestForecastsSurviveFailedPublishes makes the forecaster's publishes fail
// twice while ticks keep arriving: once recovered live, once across a
// restart of the forecaster while its forecasts were still unstored. Every
// bucket must end with exactly one stored forecast per tier, in order.
func TestForecastsSurviveFailedPublishes(t *testing.T) {
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	harness.SurviveFailedPublishes(t, natstest.Bus(t, "forecaster", log), log, 60, bucket)
}

// TestDecodeChecksSubject sends a tick whose payload names another app than
// its subject: it goes to the dead-letter queue and is not forecast.
func TestDecodeChecksSubject(t *testing.T) {
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.ErrorLevel)
	s, victim := harness.ForgedTickRefused(t, natstest.Bus(t, "forecaster", log), log)
	if s.(*Service).tiers.Has(victim, "web") {
		t.Fatal("the forged app was forecast")
	}
}
