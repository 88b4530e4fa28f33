package membudget

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// pushBatch is the most ticks one push request carries here, well within
// the push API's max_ticks (10,000).
const pushBatch = 1000

// pushTick is one tick of a push body, as a pushing application writes it.
type pushTick struct {
	App      string       `json:"app"`
	Tier     string       `json:"tier"`
	Time     string       `json:"time"`
	Replicas int          `json:"replicas"`
	Values   proto.Floats `json:"values"`
}

// feedCollector is feedCollectorFor the whole history.
func feedCollector(tb testing.TB, h *history, shards [][]key, tiers int) any {
	return feedCollectorFor(0)(tb, h, shards, tiers)
}

// feedCollectorFor returns the feed of the collector's state with the
// last minutes of the history (0: all of it; the collector keeps none of
// it, only which series are live). It builds, for the tiers, a collector
// by collector.New, as the service's main builds it, its push API
// on a mux, given every tier's tick every minute of the history over
// HTTP, as applications push them; what it accepts is handed to a
// publisher that drops it (collector.WithPushPublisher: the only part
// that differs from the live path, which stores it in METRICS). Its
// per-series state is what the push API admits (the series tracker,
// limits.NewRecent, freeing quiet series); the replica view it stamps
// ticks with stays empty, with no replica bucket to mirror. The wall
// clock is 30 s after each minute's ticks, so the push API's idle sweeps
// and age bounds run as live. Scrape targets' previous
// samples are per target, not per tier, and need a reachable target: not
// fed here (see doc.go).
func feedCollectorFor(minutes int) func(testing.TB, *history, [][]key, int) any {
	return func(tb testing.TB, h *history, shards [][]key, tiers int) any {
		return pushHistory(tb, h, shards, max(0, h.n+1-minutes), minutes)
	}
}

// pushHistory pushes every tier's ticks from minute first of h to its end
// through a collector's push API (see feedCollectorFor) and returns the
// collector.
func pushHistory(tb testing.TB, h *history, shards [][]key, first, minutes int) any {
	if minutes <= 0 {
		first = 0
	}
	var minute atomic.Int64
	cfg := collector.DefaultConfig()
	cfg.Push.RateLimit = 0 // the feed pushes a week in seconds
	const addr = "127.0.0.1:8082"
	cfg.Push.AllowedHosts = collector.StandalonePushHosts("", addr) // as services/collector does
	mux := http.NewServeMux()
	published := 0
	drop := func(_ context.Context, ticks iter.Seq[*proto.Metrics]) error {
		for range ticks {
			published++
		}
		return nil
	}
	svc, err := collector.New(cfg, service.Deps{Log: zerolog.Nop(), Ready: service.NewReady(), Mux: mux}, collector.WithPushPublisher(drop))
	if err != nil {
		tb.Fatal(err)
	}
	svc.Now = func() time.Time { return at(int(minute.Load())).Add(30 * time.Second) }
	var all []key
	for _, sh := range shards {
		all = append(all, sh...)
	}
	ticks := make([]pushTick, 0, pushBatch)
	var body bytes.Buffer
	post := func() {
		body.Reset()
		if err := json.NewEncoder(&body).Encode(ticks); err != nil {
			tb.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "http://"+addr+ingest.Path, &body)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code/100 != 2 {
			tb.Fatalf("push at minute %d: %d %s", minute.Load(), rec.Code, rec.Body)
		}
		ticks = ticks[:0]
	}
	for i := first; i <= h.n; i++ {
		minute.Store(int64(i))
		ts := at(i).Format(time.RFC3339)
		for _, k := range all {
			v := proto.Floats{}
			values(v, k.scale*h.load[i], 5)
			ticks = append(ticks, pushTick{App: k.app, Tier: k.tier, Time: ts, Replicas: 5, Values: v})
			if len(ticks) == pushBatch {
				post()
			}
		}
		if len(ticks) > 0 {
			post()
		}
	}
	if want := len(all) * (h.n + 1 - first); published != want {
		tb.Fatalf("collector feed: %d ticks published, want %d", published, want)
	}
	return svc
}
