package forecaster

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/outbox"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/internal/tierstage/tierstagetest"
	"github.com/headroomhq/headroom/proto"
)

// gauge reads a gauge or counter's value from reg.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	v, _ := metricstest.Sum(t, reg, name)
	return v
}

// TestEvictedTierComesBackWhole: a tier idle for longer than
// limits.idle_after is evicted; when its ticks come back, the runtime
// replays its recorded history first, so it forecasts exactly as if it had
// never been dropped, and no bucket's forecast is stored twice. Without
// the replay it would start again from the returning ticks alone, which
// the test checks forecasts differently.
func TestEvictedTierComesBackWhole(t *testing.T) {
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	b := natstest.Bus(t, "forecaster", log)
	cfg := DefaultConfig()
	cfg.Outbox = outbox.Config{MaxBackoff: 50 * time.Millisecond, DrainTimeout: 100 * time.Millisecond}
	lim := config.DefaultLimits()
	lim.IdleAfter = time.Second // of arrival: the stream's stored timestamps
	reg := prometheus.NewRegistry()
	ready := service.NewReady()
	svc, err := New(cfg, service.Deps{Bus: b, Log: log, Reg: reg, Ready: ready, Config: &config.File{Limits: lim}})
	if err != nil {
		t.Fatal(err)
	}
	natstest.Serve(t, "forecaster", svc.Run)
	natstest.Eventually(t, 20*time.Second, ready.Err)

	// shop's two tiers get 300 minutes, go quiet while another app keeps
	// ticking until they are evicted, then get 60 minutes more.
	const before, after = 300, 360
	tierstagetest.PublishTicks(t, b, 0, before)
	stored(t, b, before-1)
	other := 0
	natstest.Eventually(t, 30*time.Second, func() error {
		m := proto.NewMetrics("other", "api", tickTime(other), 3, map[string]float64{"rps": 50})
		other++
		if err := b.PublishAll(context.Background(), []bus.Out{{Subject: proto.MetricsSubject(b.Prefix(), "other", "api"), Msg: m}}); err != nil {
			return err
		}
		if n := gauge(t, reg, "headroom_forecaster_tiers"); n != 1 {
			return fmt.Errorf("%v tiers held, waiting for shop's two to be evicted", n)
		}
		return nil
	})
	tierstagetest.PublishTicks(t, b, before, after)
	got := stored(t, b, after-1)
	exactlyOnce(t, got, after-1)
	if n := gauge(t, reg, "headroom_forecaster_returning_tiers_total"); n != float64(len(tiers)) {
		t.Errorf("%v tiers counted as returning, want %d", n, len(tiers))
	}

	// The stored forecasts of the returning buckets, against a forecaster
	// that never evicted and one that starts from the returning ticks.
	live := map[string][]proto.Forecast{}
	for _, data := range natstest.Payloads(t, b, proto.StreamName(b.Prefix(), proto.KindForecast), proto.AppFilter(b.Prefix(), proto.KindForecast, "shop")) {
		var f proto.Forecast
		if err := proto.Decode(data, &f); err != nil {
			t.Fatal(err)
		}
		if f.TS > proto.Millis(bucket(before-1)) {
			live[f.Tier] = append(live[f.Tier], f)
		}
	}
	offline := func(from int) map[string][]proto.Forecast {
		ts := NewTiers(cfg, config.DefaultLimits(), zerolog.Nop())
		out := map[string][]proto.Forecast{}
		for i := from; i < after; i++ {
			for k, tier := range tiers {
				f, _, err := ts.Step(proto.NewMetrics("shop", tier, tickTime(i), 3, tierstagetest.Values(i, k)))
				if err != nil {
					t.Fatal(err)
				}
				if f != nil && f.TS > proto.Millis(bucket(before-1)) {
					out[tier] = append(out[tier], *f)
				}
			}
		}
		return out
	}
	continuous, afresh := offline(0), offline(before)
	for _, tier := range tiers {
		if len(continuous[tier]) == 0 || continuous[tier][len(continuous[tier])-1].Model == "none" {
			t.Fatalf("%s: the continuous forecaster made no model forecast after the gap: the test would prove nothing", tier)
		}
		if reflect.DeepEqual(continuous[tier], afresh[tier]) {
			t.Fatalf("%s: forecasting from the returning ticks alone gives the same forecasts: the test would prove nothing", tier)
		}
		if !reflect.DeepEqual(live[tier], continuous[tier]) {
			t.Errorf("%s: after coming back the forecaster stored %d forecasts unlike the %d of one that never evicted it (first: %+v, want %+v)",
				tier, len(live[tier]), len(continuous[tier]), first(live[tier]), first(continuous[tier]))
		}
	}
}

func first(fs []proto.Forecast) any {
	if len(fs) == 0 {
		return nil
	}
	return fmt.Sprintf("origin %s model %s trained on %d", proto.Time(fs[0].TS).Format("15:04"), fs[0].Model, fs[0].Trained)
}
