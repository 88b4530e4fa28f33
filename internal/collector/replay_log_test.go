package collector_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestReplaySkipNamesTheMessage: a recorded tick the replay cannot decode
// is skipped, and the warning names its app, tier, id and sequence, so the
// record can be found; the ticks around it are replayed.
func TestReplaySkipNamesTheMessage(t *testing.T) {
	b := natstest.Bus(t, "replay-log", zerolog.Nop())
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour).Truncate(time.Minute)
	subject := proto.MetricsSubject("apm", "shop", "web")
	good := func(i int) {
		t.Helper()
		m := proto.NewMetrics("shop", "web", t0.Add(time.Duration(i)*time.Minute), 2, proto.Floats{"rps": 10})
		if err := b.Publish(ctx, bus.Out{Subject: subject, Msg: m}); err != nil {
			t.Fatal(err)
		}
	}
	good(0)
	js := natstest.JetStream(t, b)
	garbage := &nats.Msg{Subject: subject, Data: []byte{0xc1, 0x00}, Header: nats.Header{}}
	garbage.Header.Set(nats.MsgIdHdr, "garbage-1")
	garbage.Header.Set(bus.HeaderEventTime, strconv.FormatInt(proto.Millis(t0.Add(time.Minute)), 10))
	if _, err := js.PublishMsg(ctx, garbage); err != nil {
		t.Fatal(err)
	}
	good(2)

	logs := &natstest.Logs{}
	st, err := collector.Replay(ctx, b, collector.ReplayConfig{App: "shop", As: "shop-shadow"}, zerolog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	if st.Published != 2 {
		t.Errorf("%d ticks replayed, want the 2 readable ones", st.Published)
	}
	lines := logs.Lines(t, "recorded tick undecodable, skipped")
	if len(lines) != 1 {
		t.Fatalf("%d skip lines, want 1", len(lines))
	}
	l := lines[0]
	if l["app"] != "shop" || l["tier"] != "web" || l["msg_id"] != "garbage-1" || l["seq"] != 2.0 || l["subject"] != subject {
		t.Errorf("skip line %v, want app shop, tier web, msg_id garbage-1, seq 2, subject %s", l, subject)
	}
}
