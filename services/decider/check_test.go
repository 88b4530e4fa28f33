package main

import (
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/servicetest"
)

// TestBadSettingBeforeNATS: a bad setting fails the decider's start at once
// with its error, not after NATS answers (here it never does).
func TestBadSettingBeforeNATS(t *testing.T) {
	err := servicetest.StartError(t, run, "-decider.input-timeout", "2m")
	if err == nil || !strings.Contains(err.Error(), "input timeout 2m0s") {
		t.Fatalf("run returned %v, want the error of -decider.input-timeout 2m", err)
	}
}
