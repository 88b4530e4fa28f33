package collector_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestReplayRefusesAnAppsOwnName: a replay under the name of an app with
// ticks of its own (here pushed, as a live app's would be) is refused
// before it publishes anything, naming the app's newest tick and its
// source, with or without a configuration file; its decisions would
// stand in the app's place in the decider and on the dashboard. A replay
// under a new name passes, and so does the same replay run again (the
// name's newest tick is then a replay's).
func TestReplayRefusesAnAppsOwnName(t *testing.T) {
	b := seekBus(t)
	t0 := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	var outs []bus.Out
	for i := range 10 {
		for _, app := range []string{"shop", "api"} {
			m := proto.NewMetrics(app, "web", t0.Add(time.Duration(i)*time.Minute), 2, proto.Floats{"rps": float64(i)})
			m.Source = "push"
			outs = append(outs, bus.Out{Subject: proto.MetricsSubject("apm", app, "web"), Msg: m})
		}
	}
	ctx := context.Background()
	if err := b.PublishAll(ctx, outs); err != nil {
		t.Fatal(err)
	}
	stored := func(app string) int {
		t.Helper()
		s, err := b.Reader(ctx, proto.KindMetrics)
		if err != nil {
			t.Fatal(err)
		}
		subjects, err := s.Subjects(ctx, proto.AppFilter("apm", proto.KindMetrics, app))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range subjects {
			n += int(c)
		}
		return n
	}

	_, err := collector.Replay(ctx, b, collector.ReplayConfig{App: "shop", As: "api"}, zerolog.Nop())
	if !errors.Is(err, collector.ErrNameTaken) || !strings.Contains(err.Error(), `source "push"`) {
		t.Fatalf("replay of shop as api, an app with pushed ticks: %v, want %v naming the tick's source", err, collector.ErrNameTaken)
	}
	if n := stored("api"); n != 10 {
		t.Fatalf("api has %d ticks after the refused replay, want its own 10 only", n)
	}
	for run := 1; run <= 2; run++ {
		st, err := collector.Replay(ctx, b, collector.ReplayConfig{App: "shop", As: "shop-shadow"}, zerolog.Nop())
		if err != nil || st.Published != 10 {
			t.Fatalf("replay %d of shop as shop-shadow: %+v, %v; want 10 ticks republished", run, st, err)
		}
	}
	if n := stored("shop-shadow"); n != 10 {
		t.Fatalf("shop-shadow has %d ticks after two replays, want 10 (each stored once)", n)
	}
}

// TestReplayRefusesAnotherAppsShadow: a shadow name whose newest tick
// replays another app is refused too, naming the app it replays, before
// anything is published: the two recordings would interleave under one
// name (their ticks of the same tier and time stored once, the first's)
// and the overlay would compare the shadow with whichever ran last.
func TestReplayRefusesAnotherAppsShadow(t *testing.T) {
	b := seekBus(t)
	t0 := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	var outs []bus.Out
	for i := range 5 {
		for _, app := range []string{"shop", "api"} {
			m := proto.NewMetrics(app, "web", t0.Add(time.Duration(i)*time.Minute), 2, proto.Floats{"rps": float64(i)})
			m.Source = "push"
			outs = append(outs, bus.Out{Subject: proto.MetricsSubject("apm", app, "web"), Msg: m})
		}
	}
	ctx := context.Background()
	if err := b.PublishAll(ctx, outs); err != nil {
		t.Fatal(err)
	}
	if _, err := collector.Replay(ctx, b, collector.ReplayConfig{App: "shop", As: "shop-shadow"}, zerolog.Nop()); err != nil {
		t.Fatalf("replay of shop as shop-shadow: %v", err)
	}
	st, err := collector.Replay(ctx, b, collector.ReplayConfig{App: "api", As: "shop-shadow"}, zerolog.Nop())
	if !errors.Is(err, collector.ErrNameTaken) || !strings.Contains(err.Error(), `replay of app "shop"`) || st.Published != 0 {
		t.Fatalf("replay of api as shop-shadow (a replay of shop): %+v, %v; want %v naming shop, nothing published", st, err, collector.ErrNameTaken)
	}
	if st, err := collector.Replay(ctx, b, collector.ReplayConfig{App: "shop", As: "shop-shadow"}, zerolog.Nop()); err != nil || st.Published != 5 {
		t.Fatalf("replay of shop as shop-shadow again: %+v, %v; want 5 ticks republished", st, err)
	}
}

// TestReplayRefusesAnUndecodableNewestTick: a shadow name whose newest
// tick does not decode (a publisher other than Headroom's) cannot be told
// a replay's, so the replay is refused, naming the tick's sequence, and
// publishes nothing.
func TestReplayRefusesAnUndecodableNewestTick(t *testing.T) {
	b := seekBus(t)
	ctx := context.Background()
	m := proto.NewMetrics("shop", "web", time.Now().Add(-time.Hour).Truncate(time.Minute), 2, proto.Floats{"rps": 1})
	m.Source = "push"
	if err := b.Publish(ctx, bus.Out{Subject: proto.MetricsSubject("apm", "shop", "web"), Msg: m}); err != nil {
		t.Fatal(err)
	}
	ack, err := natstest.JetStream(t, b).Publish(ctx, proto.MetricsSubject("apm", "odd", "web"), []byte("not msgpack"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := collector.Replay(ctx, b, collector.ReplayConfig{App: "shop", As: "odd"}, zerolog.Nop())
	if !errors.Is(err, collector.ErrNameTaken) || !strings.Contains(err.Error(), fmt.Sprintf("(seq %d) does not decode", ack.Sequence)) || st.Published != 0 {
		t.Fatalf("replay of shop as odd (newest tick undecodable): %+v, %v; want %v naming seq %d, nothing published", st, err, collector.ErrNameTaken, ack.Sequence)
	}
}
