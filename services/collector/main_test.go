package main

import (
	"context"
	"strings"
	"testing"
)

// TestReplayFlags checks that bad replay arguments fail before any
// connection is tried, each naming what is wrong.
func TestReplayFlags(t *testing.T) {
	noenv := func(string) string { return "" }
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
	}
	for _, c := range cases {
		err := run(context.Background(), c.args, noenv)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want mention of %q", c.args, err, c.want)
		}
	}
}
