package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplayFlags checks that bad replay arguments fail before any
// connection is tried, each naming what is wrong.
func TestReplayFlags(t *testing.T) {
	noenv := func(string) string { return "" }
	live := filepath.Join(t.TempDir(), "headroom.yaml")
	if err := os.WriteFile(live, []byte("apps:\n  shop: {source: sim}\n  api:\n    source: push\n    mode: live\n    tiers: [{name: web}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"replay", "--app", "shop"}, `as ""`},
		{[]string{"replay", "--app", "shop", "--as", "shop"}, "must differ"},
		{[]string{"replay", "--as", "shadow", "--from", "yesterday"}, "--from"},
		{[]string{"replay", "--as", "shadow", "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z"}, "not after"},
		{[]string{"replay", "--as", "shadow", "--speed", "-1"}, "speed"},
		{[]string{"replay", "--as", "shadow", "--nope"}, "not defined"},
		{[]string{"replay", "--as", "api", "--config", live}, "names that app mode: live"},
		{[]string{"replay", "--as", "api", "--config", filepath.Join(t.TempDir(), "missing.yaml")}, "missing.yaml"},
		{[]string{"replay", "--as", "shadow", "extra"}, `unexpected argument "extra"`},
		{[]string{"tail", "-h"}, `unexpected argument "tail"`},
		{[]string{"-http.addr", "127.0.0.1:0", "bogus", "-nats.url", "nats://127.0.0.1:1"}, `unexpected argument "bogus"`},
	}
	for _, c := range cases {
		err := run(context.Background(), c.args, noenv)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want mention of %q", c.args, err, c.want)
		}
	}
}
