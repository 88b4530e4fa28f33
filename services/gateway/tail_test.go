package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestTailHasNoProvisionFlag: a tail only reads, and never provisions,
// so it refuses -nats.provision rather than accepting and ignoring it
// (its -h listed the flag as "create or update the streams …").
func TestTailHasNoProvisionFlag(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	getenv := func(string) string { return "" }
	err := tailCmd(ctx, []string{"apm.>", "-nats.provision", "-nats.url", "nats://127.0.0.1:1"}, getenv)
	if err == nil || !strings.Contains(err.Error(), "nats.provision") {
		t.Fatalf("gateway tail -nats.provision: %v, want the flag refused", err)
	}
}
