package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/ingest"
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

// TestPushTokenBeforeNATS: a push API that would need a token it lacks (a
// listener beyond loopback, or a file naming an app mode: live) fails the
// standalone collector's start at once, as New would once NATS answered.
func TestPushTokenBeforeNATS(t *testing.T) {
	live := filepath.Join(t.TempDir(), "live.yaml")
	if err := os.WriteFile(live, []byte("apps:\n  api:\n    source: push\n    mode: live\n    tiers: [{name: web}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"every interface", []string{"-http.addr", "0.0.0.0:0"}, "not a loopback address"},
		{"a file naming an app live", []string{"-config", live}, "mode: live"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := servicetest.StartError(t, run, tc.args...)
			if !errors.Is(err, ingest.ErrTokenRequired) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run returned %v, want %v naming %q", err, ingest.ErrTokenRequired, tc.want)
			}
		})
	}
}
