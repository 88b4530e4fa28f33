package decider_test

import (
	"testing"

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
