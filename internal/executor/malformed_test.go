package executor_test

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestMalformedDecisionsAreDeadLettered: payloads no decider writes, each
// stored on a decision subject as any identity allowed to publish there
// (or a faulty decider) could: negative counts, a payload naming another
// tier or app than its subject (an authorised tier's decision on an
// unauthorised subject included), shell text in the app, an unknown
// action, NaN inputs, a future schema, a negative tick, bytes that are no
// msgpack. Each is dead-lettered, naming what is wrong, and no driver is
// called for any; the genuine decision after them acts.
func TestMalformedDecisionsAreDeadLettered(t *testing.T) {
	d := func(app, tier string, from, to int, set func(*proto.Decision)) *proto.Decision {
		x := tierDecision(app, tier, t0.Add(-10*time.Second), from, to)
		if set != nil {
			set(x)
		}
		return x
	}
	for _, c := range []struct {
		name, subject string
		payload       any // a *proto.Decision, or raw bytes
		why           string
	}{
		{"negative to", "apm.decision.shop.t1", d("shop", "t1", 3, -5, nil), "from=3 to=-5"},
		{"negative from", "apm.decision.shop.t2", d("shop", "t2", -4, 2, nil), "from=-4 to=2"},
		{"payload names another tier", "apm.decision.shop.t3", d("shop", "web", 3, 9, nil), "apm.decision.shop.t3 carries decision shop.web"},
		{"authorised payload, other app's subject", "apm.decision.evil.web", d("shop", "web", 3, 9, nil), "apm.decision.evil.web carries decision shop.web"},
		{"shell text in the app", "apm.decision.$(id).web", d("$(id)", "web", 3, 9, nil), `app "$(id)"`},
		{"semicolon in the app", "apm.decision.sh;op.web", d("sh;op", "web", 3, 9, nil), `app "sh;op"`},
		{"unknown action", "apm.decision.shop.t4", d("shop", "t4", 3, 9, func(x *proto.Decision) { x.Action = "scale" }), `action "scale"`},
		{"NaN input", "apm.decision.shop.t5", d("shop", "t5", 3, 9, func(x *proto.Decision) { x.Inputs = proto.Floats{"load": math.NaN()} }), "inputs.load is not finite"},
		{"future schema", "apm.decision.shop.t6", d("shop", "t6", 3, 9, func(x *proto.Decision) { x.V = 99 }), "v=99"},
		{"negative tick", "apm.decision.shop.t7", d("shop", "t7", 3, 9, func(x *proto.Decision) { x.TickMS = -1 }), "tick_ms=-1"},
		{"not msgpack", "apm.decision.shop.t8", []byte("{\"app\":\"shop\",\"tier\":\"t8\",\"to\":999}"), "decode"},
	} {
		// Each alone, so the table names the case that fails.
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			drv := &observedDriver{}
			cfg := authorised(executor.DefaultConfig())
			cfg.Authority["shop"] = []string{"web", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"}
			h.start(cfg, executor.WithDriver("webhook", drv), fixedClock(t0))
			data, ok := c.payload.([]byte)
			if !ok {
				var err error
				if data, err = proto.Encode(c.payload.(*proto.Decision)); err != nil {
					t.Fatal(err)
				}
			}
			m := nats.NewMsg(c.subject)
			m.Data = data
			if _, err := natstest.JetStream(t, h.b).PublishMsg(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			dl := h.deadLetters(1)[0]
			if !strings.Contains(dl, c.why) {
				t.Errorf("dead letter %q, want it to say %q", dl, c.why)
			}
			genuine := tierDecision("shop", "web", t0.Add(-5*time.Second), 3, 4)
			h.publish(genuine)
			h.waitState(genuine)
			if got := drv.requests(); !slices.Equal(got, []int{4}) {
				t.Fatalf("driver asked for %v, want only the genuine 4", got)
			}
		})
	}
}
