package collector

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestSourceWaitsOutUnreadableLastTicks: a source taking an app first
// reads the app's last stored ticks from the stream's leader, which a
// cluster electing a new one leaves unanswered for a while. The read is
// tried again until it succeeds; the source then scrapes as usual. A
// source that returned the error would stop the whole collector.
func TestSourceWaitsOutUnreadableLastTicks(t *testing.T) {
	url := exposition(t, func() string { return "# TYPE cpu gauge\ncpu 0.5\n" })
	h := newHarness(t, DefaultConfig(), scrapedApp("{interval: 1s, timeout: 500ms}", url, "{name: cpu, series: cpu, kind: gauge}"))
	var reads atomic.Int32
	read := h.svc.lastEventTimes
	h.svc.lastEventTimes = func(ctx context.Context, k proto.Kind, filter string) (map[string]time.Time, error) {
		if reads.Add(1) <= 2 {
			return nil, errors.New("nats: timeout (no stream leader yet)")
		}
		return read(ctx, k, filter)
	}
	h.svc.lastTicksPause = time.Millisecond
	src := h.svc.sources[0].(*scrapeSource)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.run(ctx, nil, func() {}) }()
	natstest.Eventually(t, 10*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("the source stopped before scraping: %v", err)
		default:
		}
		if n := len(h.stored(t)); n == 0 {
			return errors.New("no tick stored yet")
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != 3 {
		t.Fatalf("the last ticks were read %d times, want 3 (two failures, then the read that worked)", n)
	}
}
