package executor_test

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/proto"
)

// TestFailedSyncIsTriedAgain: a tier acknowledged 5→8 in dry-run or run
// 5→8 by shadow mode's simulated cluster, switched to live with a driver
// that cannot read the count back, whose back-end is down at the first
// live decision (a hold at 8): the sync fails. The record must still owe
// the workload the 8: the decider decides from the recorded count, so a
// record falling back to the 8 the simulated cluster ran (shadow) has it
// hold at 8 with no change of its ever asking the driver for it again,
// while the workload runs whatever it ran before. Once the back-end is
// up, the next decision wanting 8 has the driver set it, and the record
// is carried out. (Recorded as a failed change's claim of the count the
// state saw running, the shadow tier held at 8, calling nothing.)
func TestFailedSyncIsTriedAgain(t *testing.T) {
	for _, mode := range []string{executor.ModeDryRun, executor.ModeShadow} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t)
			drv := &downDriver{}
			stop := h.startWebhook(executor.DefaultConfig(), shopFile(t, mode), drv)
			d1 := tierDecision("shop", "web", t0.Add(-50*time.Minute), 5, 8)
			h.publish(d1)
			st := h.waitState(d1)
			if st.Desired != 8 || !st.ClaimOnlyAcknowledged() {
				t.Fatalf("%s 5→8: state %+v, want 8 only acknowledged", mode, st)
			}
			stop()
			if got := drv.requests(); len(got) != 0 {
				t.Fatalf("in %s the driver was asked for %v, want nothing", mode, got)
			}

			drv.mu.Lock()
			drv.fail = true
			drv.mu.Unlock()
			live := executor.DefaultConfig()
			live.MaxAge = time.Hour
			h.startWebhook(live, shopFile(t, executor.ModeLive), drv)
			hold := decidedFrom(st, t0.Add(-20*time.Minute), st.Desired)
			h.publish(hold)
			st = h.waitState(hold)
			if got := drv.requests(); !slices.Equal(got, []int{8}) {
				t.Fatalf("the first live hold asked the driver for %v, want the failed sync of 8", got)
			}
			if !st.ClaimOnlyAcknowledged() || st.Desired != 8 {
				t.Errorf("after the failed sync: state %+v, want the 8 still owed to the workload (only acknowledged)", st)
			}

			drv.mu.Lock()
			drv.fail = false
			drv.mu.Unlock()
			next := decidedFrom(st, t0.Add(-10*time.Minute), 8)
			h.publish(next)
			st = h.waitState(next)
			if got := drv.requests(); !slices.Equal(got, []int{8, 8}) {
				t.Errorf("after the back-end came back, the decider wanting 8: the driver was asked for %v, want 8 twice (the failed sync, then again)", got)
			}
			if st.Desired != 8 || st.Claimed {
				t.Errorf("after the second sync: state %+v, want 8 carried out", st)
			}
		})
	}
}

// TestReplayDoesNotMoveAnOwedRecord: a tier acknowledged 5→8 in dry-run,
// switched to live with the command driver, its sync still owed. A
// decision on replayed input under the live app's name (15, inside the
// bounds) is refused as a replay always is on a live tier: no call, and
// the record keeps the 8 it owes the workload. Taken as a sync, the
// replay was refused with a reason that no longer read as a replay's,
// then acknowledged as a tier without authority: the record claimed 15
// (only acknowledged), and the next genuine hold, at the 15 the decider
// read from it, had the driver set 15.
func TestReplayDoesNotMoveAnOwedRecord(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	st := acknowledgedInDryRun(t, h, log)
	acked := st.TS // the dry-run change's time

	h.startWith(commandConfig(log, ""), shopFile(t, executor.ModeLive), prometheus.NewRegistry(), fixedClock(t0))
	replay := decidedFrom(st, t0.Add(-40*time.Second), 15)
	replay.Flags = append(replay.Flags, proto.FlagReplayedInput)
	// A replayed decision leaves the live tier's time as it was: the
	// state is waited for by its revision, not its time.
	rev := h.revision("shop", "web")
	h.publish(replay)
	st = h.waitStoredAfter("shop", "web", rev)
	if got := decisionsActed(t, log); len(got) != 0 {
		t.Fatalf("the replay had the driver run %v, want nothing", got)
	}
	if st.Desired != 8 || st.ClaimedBy != proto.ClaimedDryRun || st.TS != acked {
		t.Errorf("after the replay: state %+v, want the 8 still owed (claimed in dry-run) at the dry-run change's time %d", st, acked)
	}
	hold := decidedFrom(st, t0.Add(-30*time.Second), st.Desired)
	h.publish(hold)
	st = h.waitState(hold)
	if got := calls(t, log); len(got) != 1 || got[0].Argv[len(got[0].Argv)-2] != "8" {
		t.Errorf("after the genuine hold the driver ran %v, want once, 8 replicas", got)
	}
	if st.Desired != 8 || st.Claimed {
		t.Errorf("after the genuine hold: state %+v, want 8 carried out", st)
	}
}

// TestSyncsAreCounted: every sync is counted by its result in
// headroom_executor_syncs_total, whose series all exist from the start:
// a tier acknowledged 5→8 in dry-run, switched to live with a driver that
// cannot read the count back, has its inconsistent first hold and its
// stale second refused (the sync due again), its next fail at the driver (due again), and the one after
// carried out; a hold past that is no sync.
func TestSyncsAreCounted(t *testing.T) {
	h := newHarness(t)
	drv := &downDriver{}
	stop := h.startWebhook(executor.DefaultConfig(), shopFile(t, executor.ModeDryRun), drv)
	d1 := tierDecision("shop", "web", t0.Add(-50*time.Minute), 5, 8)
	h.publish(d1)
	st := h.waitState(d1)
	stop()

	live := executor.DefaultConfig()
	live.MaxAge = 30 * time.Minute
	reg := prometheus.NewRegistry()
	h.startWith(live, shopFile(t, executor.ModeLive), reg, executor.WithDriver(executor.DriverWebhook, drv), fixedClock(t0))
	want := map[string]float64{"carried": 0, "refused": 0, "failed": 0}
	check := func(after string) {
		t.Helper()
		if got := metricstest.ByLabel(t, reg, "headroom_executor_syncs_total", "result"); !maps.Equal(got, want) {
			t.Errorf("%s: headroom_executor_syncs_total %v, want %v", after, got, want)
		}
	}
	check("at the start")

	for _, c := range []struct {
		at           time.Duration
		fail         bool
		inconsistent bool
		result       string
	}{
		{-45 * time.Minute, false, true, "refused"},  // inconsistent (a hold 8→9)
		{-40 * time.Minute, false, false, "refused"}, // stale
		{-20 * time.Minute, true, false, "failed"},
		{-10 * time.Minute, false, false, "carried"},
		{-5 * time.Minute, false, false, ""}, // synced already: no sync
	} {
		drv.mu.Lock()
		drv.fail = c.fail
		drv.mu.Unlock()
		hold := decidedFrom(st, t0.Add(c.at), 8)
		if c.inconsistent {
			hold.To = 9
		}
		h.publish(hold)
		st = h.waitState(hold)
		if c.result != "" {
			want[c.result]++
		}
		check(fmt.Sprintf("after the hold at %v", c.at))
	}
	if got := drv.requests(); !slices.Equal(got, []int{8, 8}) {
		t.Errorf("the driver was asked for %v, want 8 twice (the failed sync, the carried one)", got)
	}
}
