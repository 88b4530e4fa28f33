package main

import (
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/servicetest"
)

// TestBadSettingBeforeNATS: a bad setting fails the forecaster's start at once
// with its error, not after NATS answers (here it never does).
func TestBadSettingBeforeNATS(t *testing.T) {
	err := servicetest.StartError(t, run, "-forecaster.horizon", "0")
	if err == nil || !strings.Contains(err.Error(), "forecaster.horizon 0") {
		t.Fatalf("run returned %v, want the error of -forecaster.horizon 0", err)
	}
}
