package main

import (
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/servicetest"
)

// TestBadSettingBeforeNATS: a bad setting fails the collector's start at once
// with its error, not after NATS answers (here it never does).
func TestBadSettingBeforeNATS(t *testing.T) {
	err := servicetest.StartError(t, run, "-push.forwarded-header", "Bogus")
	if err == nil || !strings.Contains(err.Error(), "forwarded") {
		t.Fatalf("run returned %v, want the error of -push.forwarded-header Bogus", err)
	}
}
