package gateway_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestHistoryDigest: a long, thinned window is served from the digest (no
// stream read for it), keeps about one metrics tick per step and every
// decision that is not a hold, and goes live with neither gap nor
// duplicate; a window older than the digest holds reads the streams.
func TestHistoryDigest(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.DigestKeep = 18 * time.Hour
	e := startEnv(t, cfg)
	t0 := time.Now().Add(-12 * time.Hour).Truncate(time.Hour)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	const ticks = 360 // six hours of minute ticks
	var outs []bus.Out
	for i := range ticks {
		outs = append(outs, bus.Out{Subject: proto.MetricsSubject("apm", "shop", "web"), Msg: proto.NewMetrics("shop", "web", at(i), 2, proto.Floats{"rps": float64(i)})})
		d := &proto.Decision{V: proto.SchemaVersion, ID: fmt.Sprintf("d.shop.web.%d", i), App: "shop", Tier: "web", TS: proto.Millis(at(i)), From: 2, To: 2, Action: proto.ActionHold, Reason: "steady"}
		if i == 200 {
			d.To, d.Action, d.Reason = 3, proto.ActionUp, "load rises"
		}
		outs = append(outs, bus.Out{Subject: proto.DecisionSubject("apm", "shop", "web"), Msg: d})
	}
	publish(t, e.bus, outs...)
	// The digest keeps the first tick of each 5-minute interval (72) and of
	// the decisions the first of each 30 minutes (12) and the scale-up.
	natstest.Eventually(t, 20*time.Second, func() error {
		if n := metricValue(t, e.reg, "headroom_gateway_digest_entries"); n != 72+12+1 {
			return fmt.Errorf("digest holds %v entries, want 85", n)
		}
		return nil
	})

	c := mustDial(t, e.srv.URL)
	step := 30 * time.Minute
	c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "w", App: "shop", Kinds: []string{"metrics", "decision"}, Since: t0.UnixMilli(), StepMS: step.Milliseconds()})
	frames := c.until(t, gateway.FrameHistoryDone)
	if n := metricValue(t, e.reg, "headroom_gateway_history_digest_total"); n != 2 {
		t.Errorf("%v stream histories from the digest, want 2 (metrics, decisions)", n)
	}
	var ticksTS []int64
	up, holds := 0, 0
	for _, f := range frames {
		if f.Type != gateway.FrameMsg {
			continue
		}
		switch proto.Kind(kindOf(f.Subject)) {
		case proto.KindMetrics:
			ticksTS = append(ticksTS, f.TS)
		case proto.KindDecision:
			var d proto.Decision
			if err := msgpack.Unmarshal(f.Data, &d); err != nil {
				t.Fatal(err)
			}
			if d.Action == proto.ActionHold {
				holds++
			} else {
				up++
			}
		}
	}
	// Digest entries every 5 minutes thinned at 30 less one grid: one every
	// 25 minutes over six hours.
	if len(ticksTS) != 15 {
		t.Errorf("%d ticks, want 15: %v", len(ticksTS), ticksTS)
	}
	for i := 1; i < len(ticksTS); i++ {
		if d := ticksTS[i] - ticksTS[i-1]; d < (25 * time.Minute).Milliseconds() {
			t.Errorf("ticks %d ms apart, want at least 25 min", d)
		}
	}
	if up != 1 || holds != 12 {
		t.Errorf("%d scale-ups and %d holds, want 1 and 12", up, holds)
	}
	// Live follows the history: the next tick arrives, once.
	publish(t, e.bus, bus.Out{Subject: proto.MetricsSubject("apm", "shop", "web"), Msg: proto.NewMetrics("shop", "web", at(ticks), 2, proto.Floats{"rps": 1})})
	if f := c.next(t); f.Type != gateway.FrameMsg || f.TS != proto.Millis(at(ticks)) {
		t.Fatalf("after the history got %+v, want the live tick", f)
	}

	// Older than the digest holds (18 h before its newest tick): read from
	// the stream, with every tick of the window.
	c.send(t, gateway.Request{Op: gateway.OpSubscribe, ID: "old", Subjects: []string{"apm.metrics.shop.web"}, Since: at(-13 * 60).UnixMilli(), StepMS: step.Milliseconds()})
	frames = c.until(t, gateway.FrameHistoryDone)
	if n := metricValue(t, e.reg, "headroom_gateway_history_digest_total"); n != 2 {
		t.Errorf("%v stream histories from the digest, want still 2", n)
	}
	if done := frames[len(frames)-1]; done.Count != 13 { // every 30 minutes of 6 h, and the live tick
		t.Errorf("old window: %d messages, want 13", done.Count)
	}
}

// kindOf returns the kind token of a subject under the apm prefix.
func kindOf(subject string) string {
	k, _, _, _ := proto.ParseSubject("apm", subject)
	return string(k)
}

// TestGzipHistory: a client that asks for compression gets its large
// history messages gzip-compressed, each inflating to the frames it would
// have had; small messages stay plain.
func TestGzipHistory(t *testing.T) {
	e := startEnv(t, gateway.DefaultConfig())
	const ticks = 600
	var outs []bus.Out
	for i := range ticks {
		outs = append(outs, tick("shop", "web", i, float64(i)))
	}
	publish(t, e.bus, outs...)
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http")+"/ws?compress=gzip", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.WriteJSON(gateway.Request{Op: gateway.OpSubscribe, ID: "s", Subjects: []string{"apm.metrics.shop.web"}, Since: millis(0)}); err != nil {
		t.Fatal(err)
	}
	msgs, zipped, plain := 0, 0, 0
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for done := false; !done; {
		_, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
			zipped++
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		} else {
			plain++
			if len(data) >= 32<<10 {
				t.Errorf("a plain message of %d bytes", len(data))
			}
		}
		dec := msgpack.NewDecoder(bytes.NewReader(data))
		for {
			var f frame
			if err := dec.Decode(&f); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
			switch f.Type {
			case gateway.FrameMsg:
				msgs++
			case gateway.FrameHistoryDone:
				done = true
			}
		}
	}
	if msgs != ticks || zipped == 0 {
		t.Fatalf("%d messages in %d compressed and %d plain WebSocket messages, want %d, compressed", msgs, zipped, plain, ticks)
	}
	// A live tick is small: plain.
	publish(t, e.bus, tick("shop", "web", ticks, 1))
	_, data, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var f frame
	if err := msgpack.Unmarshal(data, &f); err != nil || f.Type != gateway.FrameMsg || f.TS != millis(ticks) {
		t.Fatalf("live: %+v, %v; want the plain tick", f, err)
	}
}
