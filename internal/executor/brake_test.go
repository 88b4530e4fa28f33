package executor_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/proto"
)

// decidedFrom builds the decision the decider takes for shop's web tier at
// ts to want replicas, from the count the tier's state records (the
// decider decides from the committed count the collector stamps on its
// ticks): a hold when that is want.
func decidedFrom(st *proto.ReplicaState, ts time.Time, want int) *proto.Decision {
	d := tierDecision("shop", "web", ts, st.Desired, want)
	if want == st.Desired {
		d.Action = proto.ActionHold
	}
	return d
}

// TestBrakeKeepsALiveTiersRecord: a tier the configuration file names
// live, held by the brake of -executor.modes (*=dry-run, shop=dry-run,
// shadow) while the driver cannot read its count back (command), keeps
// the count its driver runs on record. Acknowledged like a tier dry-run by
// the file, the braked 5→8 made 8 the tier's desired count: once the
// brake was released the decider held at 8 (it decides from the recorded
// count) while 5 ran, under-provisioned right after the incident that
// wanted 8. Kept, the decider decides 5→8 again at each tick while braked
// (one skipped event each, saying what it would set), and the first after
// the release is carried out.
func TestBrakeKeepsALiveTiersRecord(t *testing.T) {
	for _, c := range []struct{ modes, mode string }{
		{"*=dry-run", executor.ModeDryRun},
		{"shop=dry-run", executor.ModeDryRun},
		{"*=shadow", executor.ModeShadow},
	} {
		t.Run(c.modes, func(t *testing.T) {
			h := newHarness(t)
			log := filepath.Join(t.TempDir(), "argv.log")
			live := commandConfig(log, "")
			stop := h.start(live, fixedClock(t0))
			d1 := tierDecision("shop", "web", t0.Add(-50*time.Second), 3, 5)
			h.publish(d1)
			st := h.waitState(d1)
			if st.Desired != 5 || st.Claimed {
				t.Fatalf("after the live 3→5: state %+v, want 5 desired on record", st)
			}
			stop()

			braked := commandConfig(log, "")
			var err error
			if braked.Modes, err = executor.ParseModes(c.modes); err != nil {
				t.Fatal(err)
			}
			stop = h.start(braked, fixedClock(t0))
			// Two ticks of the decider while braked, each deciding from
			// the count on record.
			for _, at := range []time.Duration{-45 * time.Second, -40 * time.Second} {
				d := decidedFrom(st, t0.Add(at), 8)
				h.publish(d)
				st = h.waitState(d)
				if st.Desired != 5 || st.Claimed || st.DecisionID != d1.ID {
					t.Errorf("braked, after %s (%d→%d): state desired %d (decision %s, claimed %v), want the 5 of %s on record",
						d.ID, d.From, d.To, st.Desired, st.DecisionID, st.Claimed, d1.ID)
				}
			}
			// One skipped event per braked decision, saying what it would
			// set.
			reasons := reasonsOf(t, h, "shop")
			if len(reasons) != 2 {
				t.Errorf("skipped events %q, want one per braked decision (2)", reasons)
			}
			for _, r := range reasons {
				if !strings.HasPrefix(r, c.mode+": braked") || !strings.Contains(r, "would set 8 replicas") {
					t.Errorf("braked change skipped for %q, want %s: braked …, would set 8 replicas", r, c.mode)
				}
			}
			stop()

			h.start(live, fixedClock(t0))
			hold := decidedFrom(st, t0.Add(-30*time.Second), st.Desired)
			h.publish(hold)
			st = h.waitState(hold)
			if got := decisionsActed(t, log); !slices.Equal(got, []string{d1.ID}) {
				t.Fatalf("the driver ran %v, want only %s", got, d1.ID)
			}
			if st.Desired != 5 || st.Claimed {
				t.Fatalf("released, after the decider's hold at %d: state desired %d (claimed %v), while the driver last set 5",
					hold.To, st.Desired, st.Claimed)
			}
			next := decidedFrom(st, t0.Add(-20*time.Second), 8)
			h.publish(next)
			st = h.waitState(next)
			if got := decisionsActed(t, log); !slices.Equal(got, []string{d1.ID, next.ID}) {
				t.Errorf("after the release the driver ran %v, want %s then %s", got, d1.ID, next.ID)
			}
			if st.Desired != 8 || st.Claimed || st.DecisionID != next.ID {
				t.Errorf("after the release's 5→8: state %+v, want 8 desired on record", st)
			}
		})
	}
}

// TestBrakeAcknowledgesWhereTheRecordIsNotTheDrivers: the brake keeps
// acknowledging changes (the state takes the decided count, claimed)
// where no record of a real driver is at stake: a tier dry-run by the
// configuration file (its decisions a coherent stream of what it would
// do), the simulated cluster as the driver, and the kubernetes driver,
// which reads the workload's count back: released, its first judgement
// records the cluster's 5 again.
func TestBrakeAcknowledgesWhereTheRecordIsNotTheDrivers(t *testing.T) {
	for _, c := range []struct {
		name, app string
		start     func(h *harness, modes map[string]string) func()
		// skips counts the skipped events stored by the end: the file's
		// dry-run acknowledges the first change too.
		skips int
		// readBack is the count the state records after a hold at the
		// acknowledged 8 once released (0: not checked).
		readBack int
	}{
		{"dry-run by the file, command driver", "preview", func(h *harness, modes map[string]string) func() {
			cfg := commandConfig(filepath.Join(h.t.TempDir(), "argv.log"), "")
			cfg.Modes = map[string]string{"preview": executor.ModeDryRun}
			return h.start(cfg, fixedClock(t0))
		}, 2, 0},
		{"sim driver", "shop", func(h *harness, modes map[string]string) func() {
			cfg := authorised(executor.DefaultConfig())
			cfg.Modes = modes
			return h.start(cfg, fixedClock(t0))
		}, 1, 0},
		{"kubernetes driver", "shop", func() func(h *harness, modes map[string]string) func() {
			var k *executor.FakeKube
			return func(h *harness, modes map[string]string) func() {
				if k == nil {
					k = executor.NewFakeKube(h.t, 3, false)
				}
				cfg := kubeConfig()
				cfg.Modes = modes
				return h.startWith(cfg, nil, prometheus.NewRegistry(), executor.WithDriver(executor.DriverKubernetes, k.Driver(h.t)), fixedClock(t0))
			}
		}(), 1, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			stop := c.start(h, nil)
			d1 := tierDecision(c.app, "web", t0.Add(-50*time.Second), 3, 5)
			h.publish(d1)
			st := h.waitState(d1)
			stop()
			stop = c.start(h, map[string]string{"*": executor.ModeDryRun})
			d2 := tierDecision(c.app, "web", t0.Add(-40*time.Second), st.Desired, 8)
			h.publish(d2)
			st = h.waitState(d2)
			if st.Desired != 8 || !st.Claimed || st.DecisionID != d2.ID {
				t.Errorf("dry-run 5→8: state desired %d (decision %s, claimed %v), want 8 acknowledged (%s, claimed)",
					st.Desired, st.DecisionID, st.Claimed, d2.ID)
			}
			if r := h.skippedReasons(c.app, c.skips)[c.skips-1]; r != "dry-run" {
				t.Errorf("skipped for %q, want dry-run", r)
			}
			stop()
			if c.readBack == 0 {
				return
			}
			c.start(h, nil)
			hold := tierDecision(c.app, "web", t0.Add(-30*time.Second), 8, 8)
			hold.Action = proto.ActionHold
			h.publish(hold)
			if st = h.waitState(hold); st.Desired != c.readBack || st.Claimed {
				t.Errorf("released, after a hold at 8: state desired %d (claimed %v), want the cluster's %d on record", st.Desired, st.Claimed, c.readBack)
			}
		})
	}
}

// TestBrakeMendsAnAcknowledgedRecord: a braked tier's state as an
// executor before this one wrote it (the braked change acknowledged:
// desired the change's 8, claimed, while the 5 the command driver last
// set stays its running count) is taken back to that running count at
// the tier's next braked judgement, and the brake's release acts on the
// decider's next change from it. Kept as read, the decider held at the
// acknowledged 8 (a hold each tick, which changes nothing) before and
// after the release while the driver ran 5: upgraded while braked, the
// tier stayed under-provisioned.
func TestBrakeMendsAnAcknowledgedRecord(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	live := commandConfig(log, "")
	stop := h.start(live, fixedClock(t0))
	d1 := tierDecision("shop", "web", t0.Add(-50*time.Second), 3, 5)
	h.publish(d1)
	if st := h.waitState(d1); st.Desired != 5 || st.Ready != 5 || st.Claimed {
		t.Fatalf("after the live 3→5: state %+v, want 5 desired and ready on record", st)
	}
	stop()
	// The braked 5→8 as the executor before this one recorded it.
	d2 := tierDecision("shop", "web", t0.Add(-45*time.Second), 5, 8)
	data, err := proto.Encode(&proto.ReplicaState{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: d2.TS,
		Desired: 8, Ready: 5, DecisionID: d2.ID, Claimed: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.kv.Put(context.Background(), proto.ReplicaKey("shop", "web"), data); err != nil {
		t.Fatal(err)
	}

	braked := commandConfig(log, "")
	braked.Modes = map[string]string{"*": executor.ModeDryRun}
	stop = h.start(braked, fixedClock(t0))
	// The decider decides from the 8 on record: a hold.
	hold := tierDecision("shop", "web", t0.Add(-40*time.Second), 8, 8)
	hold.Action = proto.ActionHold
	h.publish(hold)
	st := h.waitState(hold)
	if st.Desired != 5 {
		t.Errorf("braked, after a hold at the acknowledged 8: state desired %d (claimed %v), want the 5 the driver runs", st.Desired, st.Claimed)
	}
	stop()

	h.start(live, fixedClock(t0))
	next := decidedFrom(st, t0.Add(-30*time.Second), 8)
	h.publish(next)
	st = h.waitState(next)
	if got := decisionsActed(t, log); !slices.Equal(got, []string{d1.ID, next.ID}) {
		t.Errorf("after the release the driver ran %v, want %s then %s", got, d1.ID, next.ID)
	}
	if st.Desired != 8 || st.Claimed || st.DecisionID != next.ID {
		t.Errorf("after the release's change: state %+v, want 8 desired on record (%s)", st, next.ID)
	}
}
