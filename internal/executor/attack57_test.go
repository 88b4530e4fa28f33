package executor_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// otherFile is a configuration file naming only app other's web tier,
// live: shop is not named.
func otherFile(t *testing.T) *config.File {
	t.Helper()
	f, err := config.Parse("x.yaml", []byte("apps:\n  other:\n    source: push\n    mode: live\n    tiers: [{name: web, min: 1, max: 20}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestReplayUnderAnUnnamedAppIsNotSyncedOnceNamed: `collector replay --as
// shop` before the file names shop (a preview of an app about to be
// onboarded) has its decisions decided and shown; the executor, with a
// real driver, records them for the unnamed tier (acknowledged without
// authority, or run by shadow's simulated cluster under *=shadow). Once
// the operator names shop live and restarts, the decider decides from
// the record (the collector stamps it as committed) and the first live
// hold is a sync: the driver must not set the replay's count on the
// workload, which nobody decided live.
func TestReplayUnderAnUnnamedAppIsNotSyncedOnceNamed(t *testing.T) {
	for _, c := range []struct{ name, modes string }{
		{"not authorised", ""},
		{"shadow by -executor.modes", "*=shadow"},
		{"dry-run by -executor.modes", "*=dry-run"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			log := filepath.Join(t.TempDir(), "argv.log")
			stop := h.startWith(withModes(t, commandConfig(log, ""), c.modes), otherFile(t), prometheus.NewRegistry(), fixedClock(t0))
			replayed := tierDecision("shop", "web", t0.Add(-50*time.Second), 5, 18)
			replayed.Flags = []string{proto.FlagReplayedInput}
			h.publish(replayed)
			st := h.waitState(replayed)
			if got := decisionsActed(t, log); len(got) != 0 {
				t.Fatalf("before shop was named the driver ran %v, want nothing", got)
			}
			stop()

			h.startWith(commandConfig(log, ""), shopFile(t, executor.ModeLive), prometheus.NewRegistry(), fixedClock(t0))
			// The decider decides from the record, as its ticks carry it.
			hold := decidedFrom(st, t0.Add(-20*time.Second), st.Desired)
			h.publish(hold)
			h.waitState(hold)
			for _, c := range calls(t, log) {
				if n := c.Argv[len(c.Argv)-2]; n == "18" {
					t.Errorf("once shop was named live the driver ran %q: the replay's 18 (record %+v) set on the workload", c.Argv, st)
				}
			}
		})
	}
}

// TestDriverErrorsHideCredentials: a driver's error goes to the log
// ("scale failed"), to the failed scaling event's error (the SCALING
// stream, the dashboard) and, for the kubernetes driver, to /readyz.
// The command driver's error carries the program's output, and the
// webhook driver's a snippet of the receiver's answer: either may quote
// the URL the program or the receiver was given, with its password or its
// query's token (wget prints the URL it fetches; a receiver echoes the
// request it refuses). Those must be masked as every other error quoting
// a URL is (internal/redact).
func TestDriverErrorsHideCredentials(t *testing.T) {
	const quoted = "https://ops:hunter2@hooks.example/scale?token=s3cr3t&job=web"
	secrets := []string{"hunter2", "s3cr3t"}
	for _, c := range []struct {
		name string
		run  func(t *testing.T) error
	}{
		{"command output", func(t *testing.T) error {
			d := commandDriver(t, `/bin/sh -c 'echo "--2026-01-02--  `+quoted+` failed: Connection refused." >&2; exit 4'`, 10*time.Second)
			_, err := d.Scale(context.Background(), req)
			return err
		}},
		{"webhook answer", func(t *testing.T) error {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, "refused "+quoted)
			}))
			t.Cleanup(srv.Close)
			cfg := executor.DefaultWebhookConfig()
			cfg.URL = srv.URL + "/scale"
			d, err := executor.NewWebhookDriver(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Scale(context.Background(), req)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.run(t)
			if err == nil {
				t.Fatal("the driver succeeded, want its error")
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("the error shows %q: %v", s, err)
				}
			}
			if !strings.Contains(err.Error(), "hooks.example") {
				t.Errorf("the error %q no longer names the host quoted", err)
			}
		})
	}
}

// TestDriverErrorsHideCutCredentials: the command driver keeps the
// first -executor.command.max-output bytes of the program's output, the
// webhook driver the first 512 of the answer. Cut within a URL's user
// information, the kept text has no @ left to tell a password by: its
// start must not show all the same.
func TestDriverErrorsHideCutCredentials(t *testing.T) {
	const pad = "connecting to "
	for _, c := range []struct {
		name string
		run  func(t *testing.T, out string) error
	}{
		{"command output", func(t *testing.T, out string) error {
			cfg := executor.DefaultCommandConfig()
			cfg.Template, cfg.Timeout, cfg.MaxOutput = `/bin/sh -c 'printf "%s" "$0" >&2; exit 4' '`+out+`'`, 10*time.Second, len(pad)+len("https://ops:hunt")
			d, err := executor.NewCommandDriver(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Scale(context.Background(), req)
			return err
		}},
		{"webhook answer", func(t *testing.T, out string) error {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, strings.Repeat(" ", 512-len(pad)-len("https://ops:hunt"))+out)
			}))
			t.Cleanup(srv.Close)
			cfg := executor.DefaultWebhookConfig()
			cfg.URL = srv.URL + "/scale"
			d, err := executor.NewWebhookDriver(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Scale(context.Background(), req)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.run(t, pad+"https://ops:hunter2@hooks.example/scale")
			if err == nil {
				t.Fatal("the driver succeeded, want its error")
			}
			if strings.Contains(err.Error(), "hunt") {
				t.Errorf("the error shows the password's start: %v", err)
			}
			if !strings.Contains(err.Error(), pad+"https://") {
				t.Errorf("the error %q no longer quotes the output up to the URL", err)
			}
		})
	}
}

// TestTemplateErrorHidesCredentials: a command template whose argument
// holds a URL with a password or a query's token and a mistyped
// placeholder is refused at start, quoting the argument: the refusal
// (the log, the process's exit) masks the credentials as every error
// quoting a URL does.
func TestTemplateErrorHidesCredentials(t *testing.T) {
	for _, c := range []struct {
		name, tmpl, names string
	}{
		{"a mistyped placeholder", `wget -q https://ops:hunter2@hooks.example/scale?token=s3cr3t&n={replica}`, "{replica}"},
		{"a placeholder in the program", `https://ops:hunter2@hooks.example/scale?token=s3cr3t&n={replicas}`, "placeholders"},
		{"a program not found", `https://ops:hunter2@hooks.example/scale?token=s3cr3t {replicas}`, "hooks.example"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := executor.DefaultCommandConfig()
			cfg.Template = c.tmpl
			_, err := executor.NewCommandDriver(cfg)
			if err == nil {
				t.Fatal("the template parsed")
			}
			for _, s := range []string{"hunter2", "s3cr3t"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("the refusal shows %q: %v", s, err)
				}
			}
			if !strings.Contains(err.Error(), c.names) {
				t.Errorf("the refusal %q does not say %q", err, c.names)
			}
		})
	}
}

// TestOnlyAnOwedClaimIsSynced: a live tier's hold has the driver set the
// count on record only when the tier's own, valid state says it was only
// acknowledged (dry-run, not authorised, shadow). A state naming a cause
// on a count not claimed, a cause no build writes, a copy of another
// tier's owed state under the key (a JetStream reply stored there), a
// count braked or decided on replayed input: the hold calls nothing.
func TestOnlyAnOwedClaimIsSynced(t *testing.T) {
	hold := tierDecision("shop", "web", t0.Add(-40*time.Second), 18, 18)
	hold.Action = proto.ActionHold
	owed := func(tier string, claimed bool, by string) *proto.ReplicaState {
		return &proto.ReplicaState{V: proto.SchemaVersion, App: "shop", Tier: tier, TS: hold.TS - 10_000,
			Desired: 18, Ready: 5, DecisionID: proto.DecisionID("shop", tier, hold.TS-10_000), Claimed: claimed, ClaimedBy: by}
	}
	for _, c := range []struct {
		name  string
		state *proto.ReplicaState
		want  []int
	}{
		{"owed: only acknowledged in dry-run", owed("web", true, proto.ClaimedDryRun), []int{18}},
		{"a cause on a count not claimed", owed("web", false, proto.ClaimedDryRun), nil},
		{"a cause no build writes", owed("web", true, "guessed"), nil},
		{"another tier's owed state under the key", owed("db", true, proto.ClaimedDryRun), nil},
		{"braked", owed("web", true, proto.ClaimedBraked), nil},
		{"decided on replayed input", owed("web", true, proto.ClaimedReplayed), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.putState("shop", "web", c.state)
			drv := &downDriver{}
			h.startWebhook(executor.DefaultConfig(), shopFile(t, executor.ModeLive), drv)
			h.publish(hold)
			h.waitState(hold)
			if got := drv.requests(); !slices.Equal(got, c.want) {
				t.Errorf("the live hold asked the driver for %v, want %v", got, c.want)
			}
		})
	}
}

// TestSyncWaitsForAnotherMembersLease: a sync is a driver call like a
// change, so it is made under the tier's lease. With the lease held by
// another member (one killed while its call was in flight), the first
// live hold of a tier whose 8 was only acknowledged in dry-run does not
// call the driver until the lease lapsed, and waits are counted.
func TestSyncWaitsForAnotherMembersLease(t *testing.T) {
	h := newHarness(t)
	st := acknowledgedInDryRun(t, h, filepath.Join(t.TempDir(), "argv.log"))
	const ttl = 3 * time.Second
	before := time.Now()
	l, _ := takeForeignLease(t, h, "shop", ttl)
	drv := &leaseCheckDriver{l: l}
	reg := prometheus.NewRegistry()
	live := executor.DefaultConfig()
	live.MaxAge = time.Hour
	h.startWith(live, shopFile(t, executor.ModeLive), reg, executor.WithDriver(executor.DriverWebhook, drv), fixedClock(t0))
	hold := decidedFrom(st, t0.Add(-20*time.Second), st.Desired)
	h.publish(hold)
	natstest.Eventually(t, 20*time.Second, func() error {
		if calls, _, _ := drv.made(); len(calls) == 0 {
			return errors.New("the sync is not made yet")
		}
		return nil
	})
	calls, at, underDead := drv.made()
	if !slices.Equal(calls, []string{"shop:8"}) || len(underDead) > 0 {
		t.Errorf("calls %v, of which under the other member's lease %v; want [shop:8], none under it", calls, underDead)
	}
	if len(at) > 0 && at[0].Sub(before) < ttl {
		t.Errorf("synced %v after the other member's lease was taken, before it lapsed (%v)", at[0].Sub(before), ttl)
	}
	if n, _ := metricstest.Sum(t, reg, "headroom_executor_lease_waits_total"); n < 1 {
		t.Errorf("waited on a lease %v times, want at least 1", n)
	}
}

// TestSyncNeedsTheTiersAuthority: a count only acknowledged is owed to
// the workload only where the executor may act on the tier: a tier the
// file does not name (shop.cache under a live shop naming only web), or
// an app live by -executor.modes alone (the file names it dry-run), gets
// no sync at its hold, whatever its state owes.
func TestSyncNeedsTheTiersAuthority(t *testing.T) {
	for _, c := range []struct {
		name, tier, file, modes string
	}{
		{"tier the file does not name", "cache", executor.ModeLive, ""},
		{"live by -executor.modes, dry-run by the file", "web", executor.ModeDryRun, "shop=live"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			hold := tierDecision("shop", c.tier, t0.Add(-40*time.Second), 18, 18)
			hold.Action = proto.ActionHold
			h.putState("shop", c.tier, &proto.ReplicaState{V: proto.SchemaVersion, App: "shop", Tier: c.tier, TS: hold.TS - 10_000,
				Desired: 18, Ready: 5, DecisionID: proto.DecisionID("shop", c.tier, hold.TS-10_000), Claimed: true, ClaimedBy: proto.ClaimedDryRun})
			drv := &downDriver{}
			h.startWebhook(withModes(t, executor.DefaultConfig(), c.modes), shopFile(t, c.file), drv)
			h.publish(hold)
			h.waitState(hold)
			if got := drv.requests(); len(got) != 0 {
				t.Errorf("the hold asked the driver for %v, want nothing", got)
			}
		})
	}
}

// TestSimDriversRecordIsNoRealDriversRecord: an executor run with the sim
// driver (the default: a demo, a trial on the bucket the real one will
// use) records the counts its simulated cluster ran. Once the executor
// runs the command driver with the file naming the tier live (max 20),
// those counts are no record of what the workload runs: "down 1000→999"
// must not be judged as a way back into the bounds from the 1000 and
// carried out, nor may the first live hold set the 1000. The first live
// decision is a sync (the count was never asked of the workload), whose
// count is clamped into the bounds: the driver sets 20, once.
func TestSimDriversRecordIsNoRealDriversRecord(t *testing.T) {
	for _, c := range []struct {
		name     string
		from, to int
	}{
		{"a way back from the simulated count", 1000, 999},
		{"a hold at the simulated count", 1000, 1000},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			log := filepath.Join(t.TempDir(), "argv.log")
			stop := h.startWith(executor.DefaultConfig(), nil, prometheus.NewRegistry(), fixedClock(t0))
			d1 := tierDecision("shop", "web", t0.Add(-50*time.Second), 5, 1000)
			h.publish(d1)
			h.waitState(d1)
			stop()

			live := commandConfig(log, "")
			live.MaxAge = time.Hour
			h.startWith(live, shopFile(t, executor.ModeLive), prometheus.NewRegistry(), fixedClock(t0))
			d2 := tierDecision("shop", "web", t0.Add(-20*time.Second), c.from, c.to)
			if c.from == c.to {
				d2.Action = proto.ActionHold
			}
			h.publish(d2)
			h.waitState(d2)
			if cs := calls(t, log); len(cs) != 1 || cs[0].Argv[len(cs[0].Argv)-2] != "20" {
				t.Errorf("the command driver ran %v on a tier of max 20, want the sync clamped to 20 once", cs)
			}
		})
	}
}

// TestSimDriversReplayIsOnRecordForIt: the sim driver runs a replay's
// decisions (a replay under another name beside the all-in-one's app) in
// its own cluster, and the count is on record for it as every count it
// ran is: once the file bounds the tier (max 20), its way back from the
// 30 the replay ran is judged from that count and carried out, as it was
// before the sim driver's counts were claimed.
func TestSimDriversReplayIsOnRecordForIt(t *testing.T) {
	h := newHarness(t)
	stop := h.startWith(executor.DefaultConfig(), nil, prometheus.NewRegistry(), fixedClock(t0))
	d1 := tierDecision("shop", "web", t0.Add(-50*time.Second), 5, 30)
	d1.Flags = []string{proto.FlagReplayedInput}
	h.publish(d1)
	if st := h.waitState(d1); st.Desired != 30 {
		t.Fatalf("the sim driver did not run the replay's 30: %+v", st)
	}
	stop()

	h.startWith(executor.DefaultConfig(), shopFile(t, executor.ModeLive), prometheus.NewRegistry(), fixedClock(t0))
	d2 := tierDecision("shop", "web", t0.Add(-20*time.Second), 30, 25)
	h.publish(d2)
	if st := h.waitState(d2); st.Desired != 25 {
		reasons, _ := h.skipped("shop")
		t.Errorf("the way back from the 30 the sim driver ran was not carried out: state %+v, skipped %q", st, reasons)
	}
}

// TestSimToRealSwitchSetsTheSimulatedCount: what the README says of a
// switch from the sim driver to the command driver: the simulated count,
// never asked of the workload, is set by the first live decision (a hold
// included), as a count only acknowledged in dry-run is; within the
// tier's bounds, it is carried out.
func TestSimToRealSwitchSetsTheSimulatedCount(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	stop := h.startWith(executor.DefaultConfig(), nil, prometheus.NewRegistry(), fixedClock(t0))
	d1 := tierDecision("shop", "web", t0.Add(-50*time.Second), 5, 8)
	h.publish(d1)
	if st := h.waitState(d1); !st.Claimed || st.ClaimedBy != proto.ClaimedShadow {
		t.Fatalf("the sim driver's count is not claimed shadow: %+v", st)
	}
	stop()

	live := commandConfig(log, "")
	live.MaxAge = time.Hour
	h.startWith(live, shopFile(t, executor.ModeLive), prometheus.NewRegistry(), fixedClock(t0))
	hold := tierDecision("shop", "web", t0.Add(-20*time.Second), 8, 8)
	hold.Action = proto.ActionHold
	h.publish(hold)
	st := h.waitState(hold)
	cs := calls(t, log)
	if len(cs) != 1 || cs[0].Argv[len(cs[0].Argv)-2] != "8" {
		t.Fatalf("the first live hold ran %v, want the simulated 8 set once", cs)
	}
	if st.Claimed || st.Desired != 8 {
		t.Errorf("after the sync the state %+v is not the driver's record of 8", st)
	}
	if reason, _ := h.requestedReason("shop", hold.ID); !strings.HasPrefix(reason, "synced:") {
		t.Errorf("the requested event's reason %q does not say it is a sync", reason)
	}
}

// TestSimToRealSwitchClampsIntoTheBounds: the sim driver ran 15 replicas
// (claimed shadow) and the live file bounds the tier to 1..10; the policy
// caps a step at 2 (max_step), so the decider, deciding from the 15 on
// record, scales down 15→13, still above the max. The switch's sync sets
// the count clamped into the bounds, 10, once, and the record is the
// driver's 10: the next decision, from 10, is a hold that calls nothing.
// Refused for the bounds, the sync left the 15 on record, the decider
// decided 15→13 again at every tick, and the switch never happened.
func TestSimToRealSwitchClampsIntoTheBounds(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	stop := h.startWith(executor.DefaultConfig(), nil, prometheus.NewRegistry(), fixedClock(t0))
	d1 := tierDecision("shop", "web", t0.Add(-50*time.Second), 5, 15)
	h.publish(d1)
	if st := h.waitState(d1); st.ClaimedBy != proto.ClaimedShadow || st.Desired != 15 {
		t.Fatalf("the sim driver's 15 is not claimed shadow: %+v", st)
	}
	stop()

	live := commandConfig(log, "")
	live.MaxAge = time.Hour
	h.startWith(live, shopFileMax(t, executor.ModeLive, 10), prometheus.NewRegistry(), fixedClock(t0))
	down := tierDecision("shop", "web", t0.Add(-30*time.Second), 15, 13)
	h.publish(down)
	st := h.waitState(down)
	cs := calls(t, log)
	if len(cs) != 1 || cs[0].Argv[len(cs[0].Argv)-2] != "10" {
		reasons, _ := h.skipped("shop")
		t.Fatalf("the first live decision (down 15→13, max 10) ran %v (skipped %q), want 10 set once", cs, reasons)
	}
	if st.Claimed || st.Desired != 10 {
		t.Errorf("after the sync the state %+v is not the driver's record of 10", st)
	}
	if reason, _ := h.requestedReason("shop", down.ID); !strings.Contains(reason, "the driver sets 10 (the decided 13 clamped into the tier's bounds of 1 to 10)") {
		t.Errorf("the requested event's reason %q does not say the sync clamped 13 into the bounds", reason)
	}
	hold := decidedFrom(st, t0.Add(-20*time.Second), 10)
	h.publish(hold)
	h.waitState(hold)
	if cs := calls(t, log); len(cs) != 1 {
		t.Errorf("the hold at 10 after the sync ran the driver again: %v", cs)
	}
}

// TestReplayedCountIsNotTheWorkloads: a replay under shop before the file
// named it (5→18, acknowledged without authority) leaves a state claimed
// replayed: 18 desired, and the 5 the replay started from as running.
// Once shop is named live the decider decides from the record: its first
// live hold sets nothing and leaves the claim (the replay's 18 is never
// set), and its first live change, down 18→5, must be carried out:
// nothing of the workload is known, and the 5 "running" is the replay's. Taken for the workload's,
// the change was judged done already and no driver was called, and the
// record said 5 ran.
func TestReplayedCountIsNotTheWorkloads(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	stop := h.startWith(commandConfig(log, ""), otherFile(t), prometheus.NewRegistry(), fixedClock(t0))
	replayed := tierDecision("shop", "web", t0.Add(-50*time.Second), 5, 18)
	replayed.Flags = []string{proto.FlagReplayedInput}
	h.publish(replayed)
	st := h.waitState(replayed)
	if st.ClaimedBy != proto.ClaimedReplayed || st.Desired != 18 || st.Ready+st.Booting != 5 {
		t.Fatalf("the replay's state %+v, want 18 desired claimed replayed, 5 running", st)
	}
	stop()

	live := commandConfig(log, "")
	live.MaxAge = time.Hour
	h.startWith(live, shopFile(t, executor.ModeLive), prometheus.NewRegistry(), fixedClock(t0))
	hold := decidedFrom(st, t0.Add(-30*time.Second), st.Desired)
	h.publish(hold)
	if st = h.waitState(hold); st.ClaimedBy != proto.ClaimedReplayed || st.Desired != 18 {
		t.Fatalf("after the first live hold the state %+v, want the replay's 18 still claimed replayed", st)
	}
	if cs := calls(t, log); len(cs) != 0 {
		t.Fatalf("the first live hold at the replay's 18 ran %v, want nothing", cs)
	}
	down := decidedFrom(st, t0.Add(-20*time.Second), 5)
	h.publish(down)
	st = h.waitState(down)
	cs := calls(t, log)
	if len(cs) != 1 || cs[0].Argv[len(cs[0].Argv)-2] != "5" {
		reasons, _ := h.skipped("shop")
		t.Fatalf("the first live change, down 18→5, ran %v (skipped %q): want 5 set once, the replay's 5 being no count the workload runs", cs, reasons)
	}
	if st.Claimed || st.Desired != 5 {
		t.Errorf("after the change the state %+v is not the driver's record of 5", st)
	}
}
