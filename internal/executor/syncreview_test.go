package executor_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/proto"
)

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
	stop := h.startWith(commandConfig(log, ""), shopFile(t, executor.ModeDryRun), prometheus.NewRegistry(), fixedClock(t0))
	d1 := tierDecision("shop", "web", t0.Add(-50*time.Second), 5, 8)
	h.publish(d1)
	st := h.waitState(d1)
	stop()

	h.startWith(commandConfig(log, ""), shopFile(t, executor.ModeLive), prometheus.NewRegistry(), fixedClock(t0))
	replay := decidedFrom(st, t0.Add(-40*time.Second), 15)
	replay.Flags = append(replay.Flags, proto.FlagReplayedInput)
	h.publish(replay)
	st = h.waitState(replay)
	if got := decisionsActed(t, log); len(got) != 0 {
		t.Fatalf("the replay had the driver run %v, want nothing", got)
	}
	if st.Desired != 8 || st.ClaimedBy != proto.ClaimedDryRun {
		t.Errorf("after the replay: state %+v, want the 8 still owed (claimed in dry-run)", st)
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
