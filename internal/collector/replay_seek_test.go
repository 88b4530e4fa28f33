package collector_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

func seekBus(t *testing.T) *bus.Bus {
	t.Helper()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = natstest.RunJetStream(t), "replay-seek"
	cfg.Streams.Memory = true
	b, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.EnsureStreams(context.Background()); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReplaySeek: a replay from a time seeks there instead of reading the
// recording from its start; an empty range names the recorded one; with
// Follow it republishes ticks recorded after it began, until To.
func TestReplaySeek(t *testing.T) {
	b := seekBus(t)
	t0 := time.Now().Add(-48 * time.Hour).Truncate(time.Minute)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	pub := func(app string, i int) {
		t.Helper()
		m := proto.NewMetrics(app, "web", at(i), 2, proto.Floats{"rps": float64(i)})
		if _, err := b.PublishAsync(bus.Out{Subject: proto.MetricsSubject("apm", app, "web"), Msg: m}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 1000 {
		pub("shop", i)
		pub("blog", i) // another app interleaved
	}
	if err := b.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// A disorder of a minute: the seek starts at minute 899 and the
	// reading stops at 951.
	st, err := collector.Replay(ctx, b, collector.ReplayConfig{App: "shop", As: "shop-shadow", From: at(900), To: at(950), Disorder: time.Minute}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if st.Published != 50 || !st.First.Equal(at(900)) || !st.Last.Equal(at(949)) {
		t.Fatalf("replayed %d (%v … %v), want 50 from minute 900", st.Published, st.First, st.Last)
	}
	if st.Read > 53 {
		t.Fatalf("read %d ticks for 50 (53 with the minute's disorder): the replay scanned instead of seeking", st.Read)
	}

	_, err = collector.Replay(ctx, b, collector.ReplayConfig{App: "shop", As: "shop-shadow", From: at(2000), To: at(2100)}, zerolog.Nop())
	if !errors.Is(err, collector.ErrEmptyRange) || !strings.Contains(err.Error(), at(0).UTC().Format(time.RFC3339)) || !strings.Contains(err.Error(), at(999).UTC().Format(time.RFC3339)) {
		t.Fatalf("empty range: %v, want the recorded range named", err)
	}

	// Follow: starts at minute 995, takes the recorded 995..999, then the
	// ticks recorded while it runs, and stops at To (minute 1010).
	done := make(chan error, 1)
	var fst collector.ReplayStats
	go func() {
		var err error
		fst, err = collector.Replay(ctx, b, collector.ReplayConfig{App: "shop", As: "shop-follow", From: at(995), To: at(1010), Follow: true}, zerolog.Nop())
		done <- err
	}()
	natstest.Eventually(t, 10*time.Second, func() error {
		if n := count(t, b, "METRICS", proto.AppFilter("apm", proto.KindMetrics, "shop-follow")); n < 5 {
			return errors.New("follow has not caught up with the recording")
		}
		return nil
	})
	for i := 1000; i <= 1010; i++ {
		pub("shop", i)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow did not stop at To")
	}
	if fst.Published != 15 || !fst.Last.Equal(at(1009)) {
		t.Fatalf("follow replayed %d up to %v, want 15 up to minute 1009", fst.Published, fst.Last)
	}
}
