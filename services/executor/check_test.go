package main

import (
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/servicetest"
)

// TestBadSettingBeforeNATS: a bad setting fails the executor's start at once
// with its error, not after NATS answers (here it never does).
func TestBadSettingBeforeNATS(t *testing.T) {
	err := servicetest.StartError(t, run, "-executor.driver", "bogus")
	if err == nil || !strings.Contains(err.Error(), "executor.driver \"bogus\"") {
		t.Fatalf("run returned %v, want the error of -executor.driver bogus", err)
	}
}
