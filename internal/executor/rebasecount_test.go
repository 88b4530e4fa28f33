package executor_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// storeHoldAt stores shop.web's state as it is with time ts and ready
// replicas, as another member's hold records it: decision, desired count
// and claim unchanged.
func (h *harness) storeHoldAt(ts int64, ready int) {
	h.t.Helper()
	st, err := executor.ReadState(context.Background(), h.kv, "shop", "web")
	if err != nil || st == nil {
		h.t.Fatalf("state: %+v, %v", st, err)
	}
	st.TS, st.Ready = ts, ready
	data, err := proto.Encode(st)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.kv.Put(context.Background(), proto.ReplicaKey("shop", "web"), data); err != nil {
		h.t.Fatal(err)
	}
}

// rebaseOverHold runs A's leased change 3→5 with a hold stored under it
// while its call is in flight (at ts), and before, once A reads that
// hold to record its change over it, runs meanwhile.
func rebaseOverHold(t *testing.T, h *harness, reg *prometheus.Registry, ts int64, meanwhile func()) (d3 *proto.Decision, puts *atomic.Int32) {
	t.Helper()
	rig := webhookRaceRig(t)
	puts = &atomic.Int32{}
	h.startWith(rig.cfgA, nil, reg, executor.WithBeforeRebasePut(func() {
		if puts.Add(1) == 1 {
			meanwhile()
		}
	}))
	d1 := decision("shop", 0, 1, 3)
	h.publish(d1)
	h.waitState(d1)
	d3 = decision("shop", 3, 3, 5)
	h.publish(d3)
	natstest.Eventually(t, 10*time.Second, rig.entered)
	h.storeHoldAt(ts, 3)
	rig.release()
	return d3, puts
}

// TestRebaseCountsEveryConflict: a leased change recorded over a hold
// stored meanwhile, whose put meets yet another hold, counts both
// conflicts, and is recorded at the second attempt.
func TestRebaseCountsEveryConflict(t *testing.T) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	hold := decision("shop", 4, 3, 3)
	d3, puts := rebaseOverHold(t, h, reg, hold.TS, func() { h.storeHoldAt(hold.TS+1, 3) })
	st := h.waitState(hold)
	natstest.Eventually(t, 10*time.Second, func() error {
		var err error
		if st, err = executor.ReadState(context.Background(), h.kv, "shop", "web"); err != nil || st.DecisionID != d3.ID {
			return fmt.Errorf("state %+v (%v), want %s recorded", st, err, d3.ID)
		}
		return nil
	})
	if st.Desired != 5 || st.TS != hold.TS+1 {
		t.Errorf("state %+v, want 5 desired at the second hold's %d", st, hold.TS+1)
	}
	if n := puts.Load(); n != 2 {
		t.Errorf("%d rebase puts, want 2 (the first meeting the second hold)", n)
	}
	conflicts(t, reg, 2)
}

// TestRebaseOnAFullBucketIsNotARefusal: a leased change whose record over
// a hold stored meanwhile finds the replica bucket full is judged again,
// not refused: only that judgement's own put, finding it full too,
// counts refused{bucket full}, once, and dead-letters the decision.
func TestRebaseOnAFullBucketIsNotARefusal(t *testing.T) {
	h := newHarness(t)
	reg := prometheus.NewRegistry()
	// The hold's time small, so its value is smaller than A's: a single
	// server checks a put against the bucket's cap without counting the
	// value it replaces only when the new one is larger.
	_, puts := rebaseOverHold(t, h, reg, 1, func() { fillReplicaBucket(t, h) })
	dl := h.deadLetters(1)
	if !strings.Contains(dl[0], bus.ErrBucketFull.Error()) {
		t.Errorf("dead letter %q, want the full bucket named", dl[0])
	}
	if n := puts.Load(); n != 1 {
		t.Errorf("%d rebase puts, want 1", n)
	}
	if n, _ := metricstest.Sum(t, reg, "headroom_executor_refused_total", "why", "bucket full"); n != 1 {
		t.Errorf("refused{bucket full} = %v, want 1 (the judgement again's, not the rebase's)", n)
	}
	conflicts(t, reg, 1)
}

// fillReplicaBucket provisions the replica bucket again with a 16 KiB cap
// and fills it, to within a value of a few bytes.
func fillReplicaBucket(t *testing.T, h *harness) {
	small := h.connect("provision", func(c *bus.Config) { c.Streams.ReplicaMaxBytes = 16 << 10 })
	if err := small.EnsureStreams(context.Background()); err != nil {
		t.Error(err)
		return
	}
	i := 0
	for _, size := range []int{500, 100, 10, 1} {
		for err := error(nil); err == nil; i++ {
			if i > 200 {
				t.Error("a 16 KiB bucket took 200 values")
				return
			}
			err = h.kv.Put(context.Background(), fmt.Sprintf("filler%d.web", i), make([]byte, size))
			if err != nil && !errors.Is(err, bus.ErrBucketFull) {
				t.Error(err)
				return
			}
		}
	}
}
