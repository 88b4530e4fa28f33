package outbox

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// metricsOut is the i-th metrics tick of shop's tier, on its real subject.
func metricsOut(tier string, i int) bus.Out {
	m := proto.NewMetrics("shop", tier, time.UnixMilli(int64(i+1)*60_000), 2, proto.Floats{"rps": float64(i)})
	return bus.Out{Subject: proto.MetricsSubject("apm", "shop", tier), Msg: m}
}

// TestRefusalSeenAtOnce: an output whose subject the server refuses the
// user (nats.conf) is known refused as the server's refusal arrives, not
// when its attempt's timeout (here a minute) passes without an
// acknowledgement: the server drops the publish and tells only the
// connection. Its subject is blocked (headroom_outbox_blocked_subjects)
// while another subject's outputs are stored, and it is stored, in order
// before the one behind it, once the subject is allowed.
func TestRefusalSeenAtOnce(t *testing.T) {
	r := natstest.StartRestricted(t, "forecaster", proto.MetricsSubject("apm", "shop", "web"))
	r.Connect(t, "admin", zerolog.Nop()) // provisions the streams
	var logs natstest.Logs
	b := r.Connect(t, "forecaster", zerolog.New(&logs))
	reg := prometheus.NewRegistry()
	o, err := New(Config{AttemptTimeout: time.Minute}, b, "test", zerolog.New(&logs), reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := running(t, o)
	start := time.Now()
	if err := o.Add(ctx, metricsOut("web", 0), metricsOut("web", 1), metricsOut("db", 0), metricsOut("db", 1)); err != nil {
		t.Fatal(err)
	}
	// Well before the attempt's timeout: a refusal arrives in a round trip.
	deadline := start.Add(5 * time.Second)
	for {
		n, _ := metricstest.Sum(t, reg, "headroom_outbox_retries_total")
		if n >= 1 && o.Blocked() == 1 && o.Pending() == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v retries, %d subjects blocked, %d pending: want the refused subject's head retried and blocked, the allowed subject's stored",
				time.Since(start), n, o.Blocked(), o.Pending())
		}
		time.Sleep(5 * time.Millisecond)
	}
	lines := logs.Lines(t, "output not stored, retrying with the same id")
	if len(lines) == 0 || !strings.Contains(lines[0]["error"].(string), "Permissions Violation") {
		t.Errorf("retry lines %v, want the first to carry the server's refusal", lines)
	}
	if n := len(logs.Lines(t, "nats async error")); n != 0 {
		t.Errorf("%d \"nats async error\" lines for a refusal the outbox reports, want 0", n)
	}
	r.Allow(t)
	wait(t, "the refused subject's outputs stored once allowed", func() bool { return o.Pending() == 0 })
	if n := o.Blocked(); n != 0 {
		t.Errorf("%d subjects blocked once every output was stored", n)
	}
}
