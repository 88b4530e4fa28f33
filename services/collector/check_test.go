package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestBadSettingBeforeNATS: a bad setting fails the collector's start at once
// with its error, not after NATS answers (here it never does).
func TestBadSettingBeforeNATS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-nats.url", "nats://127.0.0.1:1", "-http.addr", "127.0.0.1:0", "-push.forwarded-header", "Bogus"}, func(string) string { return "" })
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "forwarded") {
			t.Fatalf("run returned %v, want the error of -push.forwarded-header Bogus", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("a bad -push.forwarded-header did not fail the start at once: the collector waits for NATS")
	}
}
