package main

import (
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/servicetest"
)

// TestBadSettingBeforeNATS: a bad setting fails the gateway's start at once
// with its error, not after NATS answers (here it never does).
func TestBadSettingBeforeNATS(t *testing.T) {
	err := servicetest.StartError(t, run, "-gateway.max-clients", "0")
	if err == nil || !strings.Contains(err.Error(), "gateway.max-clients=0") {
		t.Fatalf("run returned %v, want the error of -gateway.max-clients 0", err)
	}
}
