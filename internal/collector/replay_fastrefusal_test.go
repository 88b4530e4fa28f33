package collector_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// lockedBuf is a bytes.Buffer safe for the bus's goroutines and the test.
type lockedBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestReplayRefusedStopsAtOnce: a paced replay as a user the server does
// not let publish the shadow's subjects (the all-in-one's observer) stops
// at the first refusal instead of pacing through the range and then
// waiting for acknowledgements that cannot come; the error names the
// refused tick and the server's refusal of that tick's own subject (not
// the connection's last refusal, another tier's); and the log says the
// refusal once, the others counted in one line at close, not one line each.
func TestReplayRefusedStopsAtOnce(t *testing.T) {
	srv := natstest.StartRestricted(t, "replay", "apm.metrics.shop-shadow.>")
	admin := srv.Connect(t, "admin", zerolog.Nop())
	t0 := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	var outs []bus.Out
	for i := range 60 {
		for _, tier := range []string{"web", "cache", "db"} {
			m := proto.NewMetrics("shop", tier, t0.Add(time.Duration(i)*15*time.Second), 2, proto.Floats{"rps": float64(10 + i)})
			outs = append(outs, bus.Out{Subject: proto.MetricsSubject("apm", "shop", tier), Msg: m})
		}
	}
	if err := admin.PublishAll(context.Background(), outs); err != nil {
		t.Fatal(err)
	}
	var logs lockedBuf
	replayer := srv.Connect(t, "replay", zerolog.New(&logs))
	// At 100×, the 15 min recorded take 9 s of pacing: far past the
	// deadline, which a replay stopping at the first refusal never meets.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := collector.Replay(ctx, replayer, collector.ReplayConfig{App: "shop", As: "shop-shadow", Speed: 100}, zerolog.Nop())
	took := time.Since(start)
	if err == nil || errors.Is(err, context.DeadlineExceeded) || !bus.IsRefused(err) {
		t.Fatalf("replay refused its publishes returned after %s: %v, want the server's refusal at once", took, err)
	}
	t.Logf("refused after %s: %v", took, err)
	m := regexp.MustCompile(`publish m\.shop-shadow\.(\w+)\.\d+ to apm\.metrics\.shop-shadow\.(\w+) not stored \(0 stored before it\): .*Permissions Violation for Publish to "apm\.metrics\.shop-shadow\.(\w+)"`).FindStringSubmatch(err.Error())
	if m == nil || m[1] != m[2] || m[2] != m[3] {
		t.Fatalf("refusal %q: want the refused tick, its subject and that subject's own refusal named", err)
	}
	if err := replayer.Close(0); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var said, counted int
	for _, l := range lines {
		switch {
		case strings.Contains(l, `"message":"nats async error"`):
			said++
		case strings.Contains(l, "nats async errors not logged"):
			counted++
		}
	}
	if said != 1 || counted > 1 {
		t.Fatalf("the refusal logged %d times, counted in %d lines, want once and at most one count:\n%s", said, counted, logs.String())
	}
}
