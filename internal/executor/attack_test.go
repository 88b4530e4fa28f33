package executor_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// These tests play attacks on the acting path that the safety tests do not:
// a decider identity (stolen, or a buggy decider) choosing the counts a
// decision claims, and payloads no decider writes. Each asserts the
// refusal and that no driver was called for the attack.

// observedDriver is a real driver that records its requests and, when it
// observes, reports the tier's replicas as read from the cluster (cluster
// before its first request, then the last count asked for), as the
// kubernetes driver does.
type observedDriver struct {
	observes bool
	cluster  int
	mu       sync.Mutex
	asked    []int
}

func (o *observedDriver) Scale(_ context.Context, r executor.Request) (executor.Result, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.asked = append(o.asked, r.Replicas)
	return executor.Result{Ready: r.Replicas, Cluster: o.observes}, nil
}

func (o *observedDriver) Observe(_, _ string, _ time.Time) (executor.Result, bool) {
	if !o.observes {
		return executor.Result{}, false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	n := o.cluster
	if len(o.asked) > 0 {
		n = o.asked[len(o.asked)-1]
	}
	return executor.Result{Ready: n, Cluster: true}, true
}

func (o *observedDriver) requests() []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]int(nil), o.asked...)
}

// TestForgedFromCannotLeaveTheBounds: the bounds let a change end outside
// them only when it moves towards them (the decider brings back a tier
// scaled outside Headroom, max_step at a time). A decision claims the
// count it moves from, so a decider identity that names any count it
// likes could scale a tier at 5 replicas, max 10, to 999 with "down from
// 1000 to 999", or to 1 below a min of 2 with "up from 0 to 1". The
// executor judges the move from the count it has on record instead: one
// it set (a change it handled) or read from the cluster. A count only a
// decision claimed (a tier's first decision, or a hold that followed it)
// is no such record. Bringing a tier back from a count the executor set
// (the bounds were tightened since) or the cluster reports still acts.
func TestForgedFromCannotLeaveTheBounds(t *testing.T) {
	at := func(s int, from, to int) *proto.Decision {
		return tierDecision("shop", "web", t0.Add(time.Duration(s)*time.Second), from, to)
	}
	hold := func(d *proto.Decision) *proto.Decision { d.Action = proto.ActionHold; return d }
	up := func(d *proto.Decision) *proto.Decision { d.Action = proto.ActionUp; return d }
	// recorded is a state the executor wrote for a change to 50 it handled
	// an hour ago, before max was lowered to 10.
	recorded := &proto.ReplicaState{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: proto.Millis(t0.Add(-time.Hour)),
		Desired: 50, Ready: 50, DecisionID: proto.DecisionID("shop", "web", proto.Millis(t0.Add(-time.Hour)))}
	for _, c := range []struct {
		name    string
		cluster int                 // replicas the driver reads from the cluster (-1: it reads none)
		state   *proto.ReplicaState // put in the bucket before the executor starts
		before  []*proto.Decision   // genuine, handled first
		attack  *proto.Decision
		want    []int  // the counts the driver is asked for, the before's included
		reason  string // the attack's skip reason's start; "" when it acts
	}{
		{name: "down from a forged count above max", cluster: -1, before: []*proto.Decision{at(-30, 3, 5)}, attack: at(0, 1000, 999),
			want: []int{5}, reason: "out of bounds: down to 999 replicas, above the tier's max of 10"},
		{name: "up from a forged count below min", cluster: -1, before: []*proto.Decision{at(-30, 3, 5)}, attack: up(at(0, 0, 1)),
			want: []int{5}, reason: "out of bounds: up to 1 replicas, below the tier's min of 2"},
		{name: "a tier's first decision, from a forged count", cluster: -1, attack: at(0, 1000, 999),
			reason: "out of bounds: down to 999 replicas, above the tier's max of 10"},
		{name: "a hold seeds a forged count, then down", cluster: -1, before: []*proto.Decision{hold(at(-30, 1000, 1000))}, attack: at(0, 1000, 999),
			reason: "out of bounds: down to 999 replicas, above the tier's max of 10"},
		{name: "down towards max from a count the executor set", cluster: -1, state: recorded, attack: at(0, 50, 40), want: []int{40}},
		{name: "down towards max from the cluster's count", cluster: 50, attack: at(0, 50, 40), want: []int{40}},
		{name: "up towards min from the cluster's count", cluster: 0, attack: up(at(0, 0, 1)), want: []int{1}},
		{name: "up from a forged count, the cluster at 5", cluster: 5, attack: up(at(0, 0, 1)),
			reason: "out of bounds: up to 1 replicas, below the tier's min of 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			if c.state != nil {
				data, err := proto.Encode(c.state)
				if err != nil {
					t.Fatal(err)
				}
				if err := h.kv.Put(context.Background(), proto.ReplicaKey("shop", "web"), data); err != nil {
					t.Fatal(err)
				}
			}
			drv := &observedDriver{observes: c.cluster >= 0, cluster: c.cluster}
			cfg := authorised(executor.DefaultConfig())
			cfg.Bounds = map[string]map[string]executor.Bounds{"shop": {"web": {Min: 2, Max: 10}}}
			h.start(cfg, executor.WithDriver("kubernetes", drv), fixedClock(t0.Add(time.Second)))
			for _, d := range c.before {
				h.publish(d)
				h.waitState(d)
			}
			h.publish(c.attack)
			h.waitState(c.attack)
			if got := drv.requests(); !slices.Equal(got, c.want) {
				t.Fatalf("driver asked for %v, want %v", got, c.want)
			}
			switch reasons := reasonsOf(t, h, "shop"); {
			case c.reason == "" && len(reasons) != 0:
				t.Fatalf("skipped %q, want the change acted on", reasons)
			case c.reason != "" && (len(reasons) != 1 || !strings.HasPrefix(reasons[0], c.reason)):
				t.Fatalf("skipped %q, want one skip starting %q", reasons, c.reason)
			}
		})
	}
}

// reasonsOf returns the reasons of app's skipped scaling events stored so
// far (the state is put after its events, so waitState settles them).
func reasonsOf(t *testing.T, h *harness, app string) []string {
	t.Helper()
	var out []string
	for _, data := range natstest.Payloads(t, h.b, "SCALING", proto.AppFilter("apm", proto.KindScaling, app)) {
		var sc proto.Scaling
		if err := proto.Decode(data, &sc); err != nil {
			t.Fatal(err)
		}
		if sc.Status == proto.StatusSkipped {
			out = append(out, sc.Reason)
		}
	}
	return out
}

// TestStarDryRunHoldsAppsTheFileNamesLive: deploy/kubernetes starts the
// executor with HEADROOM_EXECUTOR_MODES "*=dry-run" as a brake that
// "keeps every app in dry-run until you remove it" (README, "In a
// cluster"). An app the configuration file names mode: live must stay in
// dry-run under it: a decision for it is acknowledged as dry-run, and no
// driver is called. An app the flag names itself still follows the flag.
func TestStarDryRunHoldsAppsTheFileNamesLive(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte(`apps:
  shop:
    source: push
    mode: live
    tiers: [{name: web}]
  blog:
    source: push
    mode: live
    tiers: [{name: web}]
`))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	drv := &observedDriver{}
	cfg := executor.DefaultConfig()
	cfg.Modes, err = executor.ParseModes("*=dry-run,blog=live")
	if err != nil {
		t.Fatal(err)
	}
	h.startWith(cfg, f, prometheus.NewRegistry(), executor.WithDriver("kubernetes", drv), fixedClock(t0))
	shop, blog := tierDecision("shop", "web", t0.Add(-5*time.Second), 3, 5), tierDecision("blog", "web", t0.Add(-5*time.Second), 3, 6)
	h.publish(shop, blog)
	h.waitState(shop)
	h.waitState(blog)
	if got := drv.requests(); !slices.Equal(got, []int{6}) {
		t.Fatalf("driver asked for %v, want only blog's 6 (shop is held in dry-run by *=dry-run)", got)
	}
	if r := reasonsOf(t, h, "shop"); len(r) != 1 || !strings.HasPrefix(r[0], "dry-run: braked") {
		t.Fatalf("shop's skips %q, want one dry-run: braked …", r)
	}
}

// TestNoFileLiveNoAction: a real driver acts only on what the
// configuration file names mode: live. Without a file, with the app
// in the file but no mode (or dry-run) while -executor.modes says live,
// or with the app live in the file but not this tier, every change is
// acknowledged as not authorised (as dry-run where the file's dry-run
// stands under "*=live") and the driver is never called.
func TestNoFileLiveNoAction(t *testing.T) {
	parse := func(yaml string) *config.File {
		f, err := config.Parse("x.yaml", []byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, c := range []struct {
		name  string
		file  *config.File
		modes string
		why   string
	}{
		{"no file", nil, "", "not authorised: app shop is not configured with mode live"},
		{"no mode in the file, live by flag", parse("apps:\n  shop:\n    source: push\n    tiers: [{name: web}]\n"), "shop=live",
			"not authorised: app shop is not configured with mode live"},
		{"dry-run in the file, live by flag", parse("apps:\n  shop:\n    source: push\n    mode: dry-run\n    tiers: [{name: web}]\n"), "shop=live",
			"not authorised: app shop is not configured with mode live"},
		{"dry-run in the file, * live by flag", parse("apps:\n  shop:\n    source: push\n    mode: dry-run\n    tiers: [{name: web}]\n"), "*=live",
			"dry-run"},
		{"live app, tier not listed", parse("apps:\n  shop:\n    source: push\n    mode: live\n    tiers: [{name: api}]\n"), "",
			"not authorised: app shop has no tier web in the configuration"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			drv := &observedDriver{}
			cfg := executor.DefaultConfig()
			if c.modes != "" {
				var err error
				if cfg.Modes, err = executor.ParseModes(c.modes); err != nil {
					t.Fatal(err)
				}
			}
			h.startWith(cfg, c.file, prometheus.NewRegistry(), executor.WithDriver("webhook", drv), fixedClock(t0))
			d := tierDecision("shop", "web", t0.Add(-5*time.Second), 3, 5)
			h.publish(d)
			h.waitState(d)
			if got := drv.requests(); len(got) != 0 {
				t.Fatalf("driver asked for %v, want nothing", got)
			}
			if r := reasonsOf(t, h, "shop"); len(r) != 1 || r[0] != c.why {
				t.Fatalf("skips %q, want one %q", r, c.why)
			}
		})
	}
}
