package decider_test

import (
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/decider"
)

// TestConfigWithFile lays a file's per-app policy over the default one.
func TestConfigWithFile(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte("apps:\n  lean:\n    source: push\n    tiers: [{name: web, target: 0.9}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := decider.DefaultConfig().WithFile(f)
	p, ok := c.Apps["lean"]
	if !ok || len(p.Tiers) == 0 || p.Tiers[0].Name != "web" || p.Tiers[0].Target != 0.9 {
		t.Fatalf("lean policy %+v (ok=%v)", p, ok)
	}
	if p.Tick != decider.DefaultConfig().Policy.Tick {
		t.Fatalf("tick %v: the default's should carry over", p.Tick)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestTierLagFlag: -decider.tier-lag, or its environment variable, sets
// Config.TierLag (3m by default), and a negative lag is refused.
func TestTierLagFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want time.Duration
		err  bool
	}{
		{nil, nil, 3 * time.Minute, false},
		{[]string{"-decider.tier-lag", "90s"}, nil, 90 * time.Second, false},
		{nil, map[string]string{"HEADROOM_DECIDER_TIER_LAG": "0s"}, 0, false},
		{[]string{"-decider.tier-lag", "-1m"}, nil, -time.Minute, true},
	} {
		var c decider.Config
		f := cli.New("decider", func(k string) string { return tc.env[k] })
		c.RegisterFlags(f)
		if err := f.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if c.TierLag != tc.want {
			t.Errorf("%v %v: tier lag %v, want %v", tc.args, tc.env, c.TierLag, tc.want)
		}
		d := decider.DefaultConfig()
		d.TierLag = c.TierLag
		if err := d.Validate(); (err != nil) != tc.err {
			t.Errorf("%v: Validate() = %v, want an error %v", tc.args, err, tc.err)
		}
	}
}

// TestInputTimeoutFlag: -decider.input-timeout, or its environment
// variable, sets Config.InputTimeout (30s by default). A negative timeout
// is refused, and so is one of a minute or more: an app whose tiers lead
// by a minute (the executor's floor) has its tick's metrics in a tick
// after it, so its decision would be older than the executor acts on
// (lead plus tick) before the timeout passed, and the timeout would never
// decide it.
func TestInputTimeoutFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want time.Duration
		err  bool
	}{
		{nil, nil, 30 * time.Second, false},
		{[]string{"-decider.input-timeout", "45s"}, nil, 45 * time.Second, false},
		{nil, map[string]string{"HEADROOM_DECIDER_INPUT_TIMEOUT": "0s"}, 0, false},
		{[]string{"-decider.input-timeout", "-1s"}, nil, -time.Second, true},
		{[]string{"-decider.input-timeout", "1m"}, nil, time.Minute, true},
		{[]string{"-decider.input-timeout", "5m"}, nil, 5 * time.Minute, true},
	} {
		var c decider.Config
		f := cli.New("decider", func(k string) string { return tc.env[k] })
		c.RegisterFlags(f)
		if err := f.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if c.InputTimeout != tc.want {
			t.Errorf("%v %v: input timeout %v, want %v", tc.args, tc.env, c.InputTimeout, tc.want)
		}
		d := decider.DefaultConfig()
		d.InputTimeout = c.InputTimeout
		if err := d.Validate(); (err != nil) != tc.err {
			t.Errorf("%v: Validate() = %v, want an error %v", tc.args, err, tc.err)
		}
	}
}
