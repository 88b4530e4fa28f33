package executor_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// shopFile is a configuration file naming app shop's web tier (bounds 1
// to 20) in mode (no mode when "").
func shopFile(t *testing.T, mode string) *config.File {
	t.Helper()
	return shopFileMax(t, mode, 20)
}

// shopFileMax is shopFile with the tier's max replicas.
func shopFileMax(t *testing.T, mode string, max int) *config.File {
	t.Helper()
	m := ""
	if mode != "" {
		m = "    mode: " + mode + "\n"
	}
	f, err := config.Parse("x.yaml", []byte("apps:\n  shop:\n    source: push\n"+m+fmt.Sprintf("    tiers: [{name: web, min: 1, max: %d}]\n", max)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// requestedReason returns the reason of app's requested scaling event
// of decision id, and whether there is one.
func (h *harness) requestedReason(app, id string) (string, bool) {
	h.t.Helper()
	for _, data := range natstest.Payloads(h.t, h.b, "SCALING", proto.AppFilter("apm", proto.KindScaling, app)) {
		var sc proto.Scaling
		if err := proto.Decode(data, &sc); err != nil {
			h.t.Fatal(err)
		}
		if sc.Status == proto.StatusRequested && sc.DecisionID == id {
			return sc.Reason, true
		}
	}
	return "", false
}

// TestLiveSyncsACountOnlyAcknowledged: the README's onboarding runs a
// tier in dry-run (or shadow) first, then switches the configuration
// file to live. With a driver that cannot read the count back (command),
// the change made meanwhile (5→8) was only acknowledged: the state
// records 8 desired, claimed, and the decider decides from it and holds
// at 8 while the workload runs whatever it ran (the driver was never
// called). The first live judgement, a hold, has the driver set the 8
// (a sync, one call, its requested event saying so), and the state then
// records 8 carried out. A stale hold before it is refused like any
// stale change (no call, the claim kept for the next), and a hold after
// it calls nothing.
func TestLiveSyncsACountOnlyAcknowledged(t *testing.T) {
	for _, c := range []struct {
		name        string
		file, modes string // the file's mode and -executor.modes before the switch
		by          string
		why         string
	}{
		{"dry-run by the file", executor.ModeDryRun, "", proto.ClaimedDryRun, "only acknowledged in dry-run"},
		{"shadow by the file", executor.ModeShadow, "", proto.ClaimedShadow, "only run by shadow mode's simulated cluster"},
		{"live by flag, not by the file", "", "shop=live", proto.ClaimedUnauthorised, "only acknowledged without authority"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			log := filepath.Join(t.TempDir(), "argv.log")
			stop := h.startWith(withModes(t, commandConfig(log, ""), c.modes), shopFile(t, c.file), prometheus.NewRegistry(), fixedClock(t0))
			d1 := tierDecision("shop", "web", t0.Add(-50*time.Second), 5, 8)
			h.publish(d1)
			st := h.waitState(d1)
			if st.Desired != 8 || !st.Claimed || st.ClaimedBy != c.by {
				t.Fatalf("before the switch, after 5→8: state %+v, want 8 desired claimed by %s", st, c.by)
			}
			if got := decisionsActed(t, log); len(got) != 0 {
				t.Fatalf("before the switch the driver ran %v, want nothing", got)
			}
			stop()

			// The file switched to live; the executor restarted with it,
			// over the same bucket.
			live := commandConfig(log, "")
			live.MaxAge = 30 * time.Second
			h.startWith(live, shopFile(t, executor.ModeLive), prometheus.NewRegistry(), fixedClock(t0))
			stale := decidedFrom(st, t0.Add(-40*time.Second), st.Desired)
			h.publish(stale)
			st = h.waitState(stale)
			if got := decisionsActed(t, log); len(got) != 0 {
				t.Fatalf("after a stale hold the driver ran %v, want nothing", got)
			}
			if st.Desired != 8 || st.ClaimedBy != c.by {
				t.Fatalf("after a stale hold: state %+v, want the 8 still claimed by %s", st, c.by)
			}
			if r := reasonsOf(t, h, "shop"); len(r) == 0 || !strings.HasPrefix(r[len(r)-1], "stale") || !strings.Contains(r[len(r)-1], "sync") {
				t.Errorf("skips %q, want the last a stale sync", r)
			}

			hold := decidedFrom(st, t0.Add(-20*time.Second), st.Desired)
			h.publish(hold)
			st = h.waitState(hold)
			cs := calls(t, log)
			if len(cs) != 1 {
				t.Fatalf("after the first fresh live hold the driver ran %d times (%v), want once", len(cs), cs)
			}
			if argv := cs[0].Argv; argv[len(argv)-1] != hold.ID || argv[len(argv)-2] != "8" {
				t.Errorf("the driver ran %q, want 8 replicas for %s", argv, hold.ID)
			}
			if st.Desired != 8 || st.Claimed || st.ClaimedBy != "" || st.DecisionID != hold.ID {
				t.Errorf("after the sync: state %+v, want 8 desired carried out by %s", st, hold.ID)
			}
			if r, ok := h.requestedReason("shop", hold.ID); !ok || !strings.HasPrefix(r, "synced: the record held a count "+c.why) {
				t.Errorf("the hold's requested event: %v, reason %q; want one saying synced: the record held a count %s", ok, r, c.why)
			}

			next := decidedFrom(st, t0.Add(-10*time.Second), st.Desired)
			h.publish(next)
			st = h.waitState(next)
			if got := decisionsActed(t, log); !slices.Equal(got, []string{hold.ID}) {
				t.Errorf("after a second hold the driver ran %v, want only the sync %s", got, hold.ID)
			}
			if st.Desired != 8 || st.Claimed {
				t.Errorf("after a second hold: state %+v, want 8 desired on record", st)
			}
		})
	}
}

// downDriver records the counts it is asked for, never reads them
// back, and fails every call while fail is set.
type downDriver struct {
	mu    sync.Mutex
	fail  bool
	asked []int
}

func (f *downDriver) Scale(_ context.Context, r executor.Request) (executor.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, r.Replicas)
	if f.fail {
		return executor.Result{}, errors.New("back-end down")
	}
	return executor.Result{Ready: r.Replicas}, nil
}

func (f *downDriver) requests() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.asked)
}

// TestLiveDoesNotSyncOtherClaims: a live tier's hold calls no driver
// over a count claimed for another cause than an acknowledgement: after
// a failed change (retried at each hold, it would hammer a failing
// back-end at the decider's tick; the decider decides the change again
// instead), or in a state written before the cause was recorded (taken
// as it was). The claim is kept.
func TestLiveDoesNotSyncOtherClaims(t *testing.T) {
	t.Run("claimed after a failed change", func(t *testing.T) {
		h := newHarness(t)
		drv := &downDriver{fail: true}
		h.startWebhook(executor.DefaultConfig(), shopFile(t, executor.ModeLive), drv)
		d1 := tierDecision("shop", "web", t0.Add(-50*time.Second), 5, 8)
		h.publish(d1)
		st := h.waitState(d1)
		if st.Desired != 5 || !st.Claimed || st.ClaimedBy != proto.ClaimedFailed {
			t.Fatalf("after the failed 5→8: state %+v, want 5 desired claimed after a failed change", st)
		}
		for _, at := range []time.Duration{-40 * time.Second, -30 * time.Second} {
			hold := decidedFrom(st, t0.Add(at), st.Desired)
			h.publish(hold)
			st = h.waitState(hold)
		}
		if got := drv.requests(); !slices.Equal(got, []int{8}) {
			t.Errorf("after two holds the driver was asked for %v, want only the failed 8", got)
		}
		if st.Desired != 5 || st.ClaimedBy != proto.ClaimedFailed {
			t.Errorf("after two holds: state %+v, want 5 still claimed after a failed change", st)
		}
	})
	t.Run("state written before the cause", func(t *testing.T) {
		h := newHarness(t)
		d1 := tierDecision("shop", "web", t0.Add(-50*time.Second), 5, 8)
		h.putState("shop", "web", &proto.ReplicaState{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: d1.TS,
			Desired: 8, Ready: 5, DecisionID: d1.ID, Claimed: true})
		drv := &downDriver{}
		h.startWebhook(executor.DefaultConfig(), shopFile(t, executor.ModeLive), drv)
		hold := tierDecision("shop", "web", t0.Add(-40*time.Second), 8, 8)
		hold.Action = proto.ActionHold
		h.publish(hold)
		st := h.waitState(hold)
		if got := drv.requests(); len(got) != 0 {
			t.Errorf("after a hold the driver was asked for %v, want nothing", got)
		}
		if st.Desired != 8 || !st.Claimed || st.ClaimedBy != "" {
			t.Errorf("after a hold: state %+v, want the 8 claimed as read", st)
		}
	})
}

// TestSyncOnlyWhereTheDriverCannotReadBack: the simulated cluster and
// the kubernetes driver, which reads the workload's count back, do not
// sync a count acknowledged in dry-run at the switch to live: the hold
// makes no request, and the kubernetes tier records the cluster's count.
func TestSyncOnlyWhereTheDriverCannotReadBack(t *testing.T) {
	for _, c := range []struct {
		name string
		opts func(h *harness) []executor.Option
		// desired is the count the state records after the live hold.
		desired int
	}{
		{"sim", func(*harness) []executor.Option { return nil }, 8},
		{"kubernetes", func() func(h *harness) []executor.Option {
			var k *executor.FakeKube
			return func(h *harness) []executor.Option {
				if k == nil {
					k = executor.NewFakeKube(h.t, 5, false)
				}
				return []executor.Option{executor.WithDriver(executor.DriverKubernetes, k.Driver(h.t))}
			}
		}(), 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			start := func(mode string) func() {
				return h.startWith(kubeConfig(), shopFile(t, mode), prometheus.NewRegistry(), append(c.opts(h), fixedClock(t0))...)
			}
			stop := start(executor.ModeDryRun)
			d1 := tierDecision("shop", "web", t0.Add(-50*time.Second), 5, 8)
			h.publish(d1)
			st := h.waitState(d1)
			if st.Desired != 8 || st.ClaimedBy != proto.ClaimedDryRun {
				t.Fatalf("dry-run 5→8: state %+v, want 8 acknowledged in dry-run", st)
			}
			stop()
			start(executor.ModeLive)
			hold := decidedFrom(st, t0.Add(-40*time.Second), st.Desired)
			h.publish(hold)
			st = h.waitState(hold)
			if _, ok := h.requestedReason("shop", hold.ID); ok {
				t.Errorf("the live hold made a request: %q", h.statuses("shop"))
			}
			if st.Desired != c.desired {
				t.Errorf("after the live hold: state %+v, want %d desired", st, c.desired)
			}
		})
	}
}

// TestSyncIsCheckedAsAChange: the sync at the switch to live is refused
// where a change would be: superseded by a newer decision wanting
// another count (that one is carried out, from the claimed record, and
// says it syncs); refused, the claim stays. Outside the bounds the live
// file sets it is not refused but clamped into them (refused, the claim
// stayed, and the decider decided from it again: see
// TestSimToRealSwitchClampsIntoTheBounds).
func TestSyncIsCheckedAsAChange(t *testing.T) {
	t.Run("superseded", func(t *testing.T) {
		h := newHarness(t)
		log := filepath.Join(t.TempDir(), "argv.log")
		st := acknowledgedInDryRun(t, h, log)
		hold := decidedFrom(st, t0.Add(-40*time.Second), st.Desired)
		up := decidedFrom(st, t0.Add(-30*time.Second), 10)
		h.publish(hold, up) // both stored before the live executor starts
		h.startWith(commandConfig(log, ""), shopFile(t, executor.ModeLive), prometheus.NewRegistry(), fixedClock(t0))
		st = h.waitState(up)
		if got := calls(t, log); len(got) != 1 || got[0].Argv[len(got[0].Argv)-2] != "10" || got[0].Argv[len(got[0].Argv)-1] != up.ID {
			t.Fatalf("the driver ran %v, want only 10 replicas for %s", got, up.ID)
		}
		if r := reasonsOf(t, h, "shop"); len(r) != 2 || !strings.HasPrefix(r[1], "superseded") || !strings.Contains(r[1], "a sync") {
			t.Errorf("skips %q, want dry-run then the hold's sync superseded", r)
		}
		if r, _ := h.requestedReason("shop", up.ID); !strings.HasPrefix(r, "synced: the record held a count only acknowledged in dry-run") {
			t.Errorf("the change's requested event says %q, want synced: …", r)
		}
		if st.Desired != 10 || st.Claimed || st.ClaimedBy != "" {
			t.Errorf("after the change: state %+v, want 10 carried out", st)
		}
	})
	t.Run("out of bounds", func(t *testing.T) {
		h := newHarness(t)
		log := filepath.Join(t.TempDir(), "argv.log")
		st := acknowledgedInDryRun(t, h, log)
		h.startWith(commandConfig(log, ""), shopFileMax(t, executor.ModeLive, 6), prometheus.NewRegistry(), fixedClock(t0))
		hold := decidedFrom(st, t0.Add(-40*time.Second), st.Desired)
		h.publish(hold)
		st = h.waitState(hold)
		if got := calls(t, log); len(got) != 1 || got[0].Argv[len(got[0].Argv)-2] != "6" {
			t.Fatalf("the driver ran %v, want 6 set once: 8 is above the live max of 6", got)
		}
		if r, _ := h.requestedReason("shop", hold.ID); !strings.HasPrefix(r, "synced:") || !strings.Contains(r, "the driver sets 6 (the decided 8 clamped into the tier's bounds of 1 to 6)") {
			t.Errorf("the requested event says %q, want a sync saying it clamped 8 into the bounds", r)
		}
		if st.Desired != 6 || st.Claimed || st.ClaimedBy != "" {
			t.Errorf("after the sync: state %+v, want the 6 carried out", st)
		}
	})
}

// TestBrakeKeepsAnAcknowledgedClaimForTheRelease: a tier acknowledged
// 5→8 in dry-run by the file, then named live by it but braked by
// -executor.modes (*=dry-run), with the command driver: the record's 8,
// claimed in dry-run, was never asked of the workload, and the running
// count the executor knows is no driver's either (dry-run ran nothing).
// The brake keeps the claim as it is (its skipped events say so), and
// the first live judgement after the release, a hold, has the driver set
// the 8. Before the cause was recorded the brake took the record back to
// the ready count, and the release held there calling nothing.
func TestBrakeKeepsAnAcknowledgedClaimForTheRelease(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	st := acknowledgedInDryRun(t, h, log)

	braked := commandConfig(log, "")
	braked.Modes = map[string]string{"*": executor.ModeDryRun}
	stop := h.startWith(braked, shopFile(t, executor.ModeLive), prometheus.NewRegistry(), fixedClock(t0))
	hold := decidedFrom(st, t0.Add(-45*time.Second), st.Desired)
	h.publish(hold)
	st = h.waitState(hold)
	if st.Desired != 8 || st.ClaimedBy != proto.ClaimedDryRun {
		t.Errorf("braked, after a hold at 8: state %+v, want the 8 still claimed in dry-run", st)
	}
	up := decidedFrom(st, t0.Add(-40*time.Second), 10)
	h.publish(up)
	st = h.waitState(up)
	if r := reasonsOf(t, h, "shop"); len(r) != 2 || !strings.Contains(r[1], "keeps 8 desired, only acknowledged in dry-run") {
		t.Errorf("skips %q, want dry-run then the braked change naming the claim", r)
	}
	stop()

	h.startWith(commandConfig(log, ""), shopFile(t, executor.ModeLive), prometheus.NewRegistry(), fixedClock(t0))
	release := decidedFrom(st, t0.Add(-30*time.Second), st.Desired)
	h.publish(release)
	st = h.waitState(release)
	if got := calls(t, log); len(got) != 1 || got[0].Argv[len(got[0].Argv)-2] != "8" {
		t.Fatalf("after the release's hold the driver ran %v, want once, 8 replicas", got)
	}
	if st.Desired != 8 || st.Claimed || st.DecisionID != release.ID {
		t.Errorf("after the release's sync: state %+v, want 8 carried out by %s", st, release.ID)
	}
}

// TestReplayUnderADryRunAppIsNotSyncedAtTheSwitch: a decision on replayed
// input under the name of an app the file names in dry-run or shadow is
// refused leaving the tier's record as it was (why="replayed"), as for a
// live app. Acknowledged (claimed dry-run, or run by shadow's simulated
// cluster), the replay's count was the record, the decider held at it,
// and at the switch to live the first live hold had the driver set it on
// the workload: a replay acted on.
func TestReplayUnderADryRunAppIsNotSyncedAtTheSwitch(t *testing.T) {
	for _, mode := range []string{executor.ModeDryRun, executor.ModeShadow} {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t)
			log := filepath.Join(t.TempDir(), "argv.log")
			reg := prometheus.NewRegistry()
			stop := h.startWith(commandConfig(log, ""), shopFile(t, mode), reg, fixedClock(t0))
			own := tierDecision("shop", "web", t0.Add(-60*time.Second), 3, 5)
			h.publish(own)
			st := h.waitState(own)
			rev := h.revision("shop", "web")
			replayed := tierDecision("shop", "web", t0.Add(-50*time.Second), 5, 18)
			replayed.Flags = []string{proto.FlagReplayedInput}
			h.publish(replayed)
			after := h.waitStoredAfter("shop", "web", rev)
			if after.Desired != st.Desired || after.DecisionID != st.DecisionID || after.ClaimedBy != st.ClaimedBy || after.TS != st.TS {
				t.Errorf("the replayed %s moved the record from %+v to %+v", replayed.ID, st, after)
			}
			if r, _ := h.skipped("shop"); len(r) == 0 || !strings.Contains(r[len(r)-1], "decided on replayed input") {
				t.Errorf("skipped for %q, want the last naming the replayed input", r)
			}
			if n := metricstest.ByLabel(t, reg, "headroom_executor_refused_total", "why")["replayed"]; n != 1 {
				t.Errorf("%v replayed refusals, want 1", n)
			}
			stop()

			h.startWith(commandConfig(log, ""), shopFile(t, executor.ModeLive), prometheus.NewRegistry(), fixedClock(t0))
			// The decider decides from the record, as its ticks carry it.
			hold := decidedFrom(after, t0.Add(-20*time.Second), after.Desired)
			h.publish(hold)
			h.waitState(hold)
			if cs := calls(t, log); len(cs) != 1 || cs[0].Argv[len(cs[0].Argv)-2] != "5" {
				t.Errorf("at the switch the driver ran %v, want it to set the 5 decided live", cs)
			}
		})
	}
}

// acknowledgedInDryRun runs an executor with the command driver (logging
// to log) under a file naming shop dry-run, has it acknowledge shop.web
// 5→8, stops it, and returns the tier's state: the 8 claimed in dry-run,
// never asked of the workload.
func acknowledgedInDryRun(t *testing.T, h *harness, log string) *proto.ReplicaState {
	t.Helper()
	stop := h.startWith(commandConfig(log, ""), shopFile(t, executor.ModeDryRun), prometheus.NewRegistry(), fixedClock(t0))
	defer stop()
	d1 := tierDecision("shop", "web", t0.Add(-50*time.Second), 5, 8)
	h.publish(d1)
	return h.waitState(d1)
}

// TestSyncClampsOnlyTheRecordsCount: the sync at the switch to live
// clamps into the bounds a count that is outside them because the record
// is (the decider decided from it: a hold at it, or a step from it
// towards the bounds), never a decision that leaves the bounds itself.
// With 8 only acknowledged in dry-run and the live max 10, "up 8→50"
// (away from the bounds) and "down 1000→999" or "hold at 1000" (from a
// count that is not the record's: a decider identity can claim any From)
// are no decisions the decider takes: refused as out of bounds, as any
// change is (invalid), the claim kept and nothing set. Clamped, a
// decision no policy makes set the tier's max.
func TestSyncClampsOnlyTheRecordsCount(t *testing.T) {
	for _, c := range []struct {
		name     string
		from, to int
		reason   string // the skip reason's start
	}{
		{"up away from the bounds", 8, 50, "out of bounds: a sync up 8→50, outside the tier's bounds of 1 to 10, is neither a hold at the 8 on record"},
		{"down from a count not on record", 1000, 999, "out of bounds: a sync down 1000→999, outside the tier's bounds of 1 to 10, is neither"},
		{"hold at a count not on record", 1000, 1000, "out of bounds: a sync hold 1000→1000, outside the tier's bounds of 1 to 10, is neither"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			log := filepath.Join(t.TempDir(), "argv.log")
			acknowledgedInDryRun(t, h, log)
			h.startWith(commandConfig(log, ""), shopFileMax(t, executor.ModeLive, 10), prometheus.NewRegistry(), fixedClock(t0))
			d := tierDecision("shop", "web", t0.Add(-40*time.Second), c.from, c.to)
			if c.from == c.to {
				d.Action = proto.ActionHold
			}
			h.publish(d)
			st := h.waitState(d)
			if got := calls(t, log); len(got) != 0 {
				t.Fatalf("the driver ran %v, want nothing: %s→%d is no step from the record's 8", got, d.Action, c.to)
			}
			if r := reasonsOf(t, h, "shop"); len(r) != 2 || !strings.HasPrefix(r[1], c.reason) {
				t.Errorf("skips %q, want dry-run then one starting %q", r, c.reason)
			}
			if st.Desired != 8 || st.ClaimedBy != proto.ClaimedDryRun {
				t.Errorf("after the refusal: state %+v, want the 8 still claimed in dry-run", st)
			}
		})
	}
}
