package allinone

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/natstest"
)

// TestStartNATSAddressInUse: with its address in use the embedded server cannot
// listen, and startNATS says so (the listen error, not a readiness
// timeout) and returns: with its log shown (-nats.log) too, where
// nats-server's own logger would call os.Exit on that fatal error and end
// the process before the all-in-one closes what it opened.
func TestStartNATSAddressInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, logs := range []bool{false, true} {
		start := time.Now()
		s, err := startNATS(busy.Addr().String(), t.TempDir(), logs, natstest.Log(t), "apm", 1, 64, nil, randomSecret())
		if err == nil {
			s.Shutdown()
			t.Fatalf("logs %v: the embedded server started on %s, in use", logs, busy.Addr())
		}
		if !strings.Contains(err.Error(), "address already in use") {
			t.Errorf("logs %v: %v, want the listen error", logs, err)
		}
		t.Logf("logs %v: failed in %v: %v", logs, time.Since(start).Round(time.Millisecond), err)
	}
}
