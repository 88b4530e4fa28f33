package executor_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestSeriesLimitRefusesNewTiers: the executor holds replica state only for
// the tiers the configuration's series limits admit. A decision for one
// more tier is dead-lettered naming the limit and counted; the admitted
// tier goes on being acted on.
func TestSeriesLimitRefusesNewTiers(t *testing.T) {
	h, reg := startLimited(t, 1)
	first, extra, next := decision("shop", 1, 2, 3), tierDecision("shop", "cache", t0.Add(time.Minute), 2, 3), decision("shop", 2, 3, 4)
	h.publish(first, extra, next)
	if st := h.waitState(next); st.Desired != 4 {
		t.Fatalf("web state %+v, want 4 desired", st)
	}
	if dl := h.deadLetters(1); !strings.Contains(dl[0], "shop.cache refused") || !strings.Contains(dl[0], "limits.max_series_per_app") {
		t.Errorf("dead letter %q, want the per-app limit refusing shop.cache", dl[0])
	}
	if st, err := executor.ReadState(t.Context(), h.kv, "shop", "cache"); err != nil || st != nil {
		t.Errorf("cache state %+v (%v), want none", st, err)
	}
	refusedOnce(t, reg, "series limit")
}

// startLimited runs an executor whose configuration admits perApp tiers of
// app shop (its web tier configured, pushed), on a new harness, and returns
// it with the registry of the executor's metrics.
func startLimited(t *testing.T, perApp int) (*harness, *prometheus.Registry) {
	t.Helper()
	yaml := fmt.Sprintf("limits: {max_series_per_app: %d}\napps:\n  shop:\n    source: push\n    tiers: [{name: web}]\n", perApp)
	file, err := config.Parse("limits.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	h.startWith(executor.DefaultConfig(), file, reg)
	return h, reg
}

// refusedOnce checks headroom_executor_refused_total counted one refusal,
// for why, and none for any other reason.
func refusedOnce(t *testing.T, reg *prometheus.Registry, why string) {
	t.Helper()
	for w, n := range metricstest.ByLabel(t, reg, "headroom_executor_refused_total", "why") {
		if want := map[bool]float64{true: 1}[w == why]; n != want {
			t.Errorf("headroom_executor_refused_total{why=%q} = %v, want %v", w, n, want)
		}
	}
}

// TestFullBucketRefusesNewTiers: when the replica bucket has no room for
// one more state, a decision for a tier without one is dead-lettered unacted
// (no driver call, no scaling event), naming the flag to raise, and counted;
// a tier with a state goes on being acted on, replacing its own key. The
// refused tier holds no place under the series limits: once the bucket has
// room again, another new tier takes the app's last place.
func TestFullBucketRefusesNewTiers(t *testing.T) {
	h, reg := startLimited(t, 2)
	first := decision("shop", 1, 2, 3)
	h.publish(first)
	h.waitState(first)

	// Provision the bucket again with a small cap, and fill it.
	small := h.connect("provision", func(c *bus.Config) { c.Streams.ReplicaMaxBytes = 16 << 10 })
	if err := small.EnsureStreams(t.Context()); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; err == nil; i++ {
		if i > 100 {
			t.Fatal("a 16 KiB bucket took 100 values of 500 bytes")
		}
		err = h.kv.Put(t.Context(), fmt.Sprintf("filler%d.web", i), make([]byte, 500))
	}
	if !errors.Is(err, bus.ErrBucketFull) {
		t.Fatalf("filling the bucket: %v, want ErrBucketFull", err)
	}

	extra, next := tierDecision("shop", "cache", t0.Add(2*time.Minute), 2, 3), decision("shop", 3, 3, 4)
	h.publish(extra, next)
	if st := h.waitState(next); st.Desired != 4 {
		t.Fatalf("web state %+v, want 4 desired", st)
	}
	dl := h.deadLetters(1)
	for _, want := range []string{extra.ID, "shop.cache has no replica state", "-stream.replica-max-bytes", bus.ErrBucketFull.Error()} {
		if !strings.Contains(dl[0], want) {
			t.Errorf("dead letter %q does not say %q", dl[0], want)
		}
	}
	if st, err := executor.ReadState(t.Context(), h.kv, "shop", "cache"); err != nil || st != nil {
		t.Errorf("cache state %+v (%v), want none", st, err)
	}
	if evs := natstest.Payloads(t, h.b, "SCALING", proto.ScalingSubject("apm", "shop", "cache")); len(evs) != 0 {
		t.Errorf("%d scaling events for the refused tier, want none", len(evs))
	}
	refusedOnce(t, reg, "bucket full")

	// Room again (provisioned with the default cap): shop.db takes the
	// app's second place, which the refused shop.cache did not keep.
	if err := h.connect("provision-again").EnsureStreams(t.Context()); err != nil {
		t.Fatal(err)
	}
	db := tierDecision("shop", "db", t0.Add(4*time.Minute), 2, 3)
	h.publish(db)
	if st := h.waitState(db); st.Desired != 3 {
		t.Fatalf("db state %+v, want 3 desired", st)
	}
	if dl := h.deadLetters(1); len(dl) != 1 {
		t.Errorf("dead letters after shop.db: %q, want only shop.cache's", dl)
	}
}

// TestFullBucketKeepsRoomForConfiguredTiers: the replica bucket's keys are
// never deleted, so tiers of pushed names the configuration does not name
// may fill it; they are refused while the room left is only what the
// file's tiers need (dead-lettered, saying so, counted as "bucket full"),
// and a tier the file names still gets its first state and is acted on.
func TestFullBucketKeepsRoomForConfiguredTiers(t *testing.T) {
	file, err := config.Parse("named.yaml", []byte("apps:\n  shop:\n    source: push\n    tiers: [{name: web}, {name: queue}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	// A 16 KiB bucket: room for 11 keys (bus.Replicas.Room).
	small := h.connect("provision", func(c *bus.Config) { c.Streams.ReplicaMaxBytes = 16 << 10 })
	if err := small.EnsureStreams(t.Context()); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	h.startWith(executor.DefaultConfig(), file, reg)

	// Pushed apps the file does not name, one at a time, until one is
	// refused.
	var refused *proto.Decision
	stored := 0
	for i := 0; refused == nil; i++ {
		if i > 20 {
			t.Fatal("a 16 KiB bucket took 20 tiers")
		}
		d := tierDecision(fmt.Sprintf("churn%d", i), "web", t0.Add(time.Duration(i)*time.Minute), 2, 3)
		h.publish(d)
		natstest.Eventually(t, 10*time.Second, func() error {
			st, err := executor.ReadState(t.Context(), h.kv, d.App, d.Tier)
			if err != nil {
				return err
			}
			if st != nil {
				stored++
				return nil
			}
			if n := len(natstest.Payloads(t, h.b, "DLQ", "apm.dlq.executor")); n > 0 {
				refused = d
				return nil
			}
			return fmt.Errorf("%s neither stored nor refused yet", d.ID)
		})
	}
	// 11 keys fit; the file names 2 tiers, neither stored yet.
	if stored != 9 {
		t.Errorf("%d unnamed tiers stored before one was refused, want 9", stored)
	}
	dl := h.deadLetters(1)
	for _, want := range []string{refused.ID, "is not named in the configuration", "reserved for the configuration's 2 tiers", "-stream.replica-max-bytes", bus.ErrBucketFull.Error()} {
		if !strings.Contains(dl[0], want) {
			t.Errorf("dead letter %q does not say %q", dl[0], want)
		}
	}
	refusedOnce(t, reg, "bucket full")

	// The operator's tiers, first decided now, get their states and act.
	for i, tier := range []string{"queue", "web"} {
		d := tierDecision("shop", tier, t0.Add(time.Hour+time.Duration(i)*time.Minute), 2, 3)
		h.publish(d)
		if st := h.waitState(d); st.Desired != 3 {
			t.Fatalf("%s state %+v, want 3 desired", tier, st)
		}
		if evs := natstest.Payloads(t, h.b, "SCALING", proto.ScalingSubject("apm", "shop", tier)); len(evs) == 0 {
			t.Errorf("no scaling event for shop.%s", tier)
		}
	}
	if dl := h.deadLetters(1); len(dl) != 1 {
		t.Errorf("dead letters after shop's tiers: %q, want only %s's", dl, refused.ID)
	}
}
