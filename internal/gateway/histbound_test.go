package gateway_test

import (
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
)

// TestHistoryBoundAtConcurrencyWarned: a per-connection (or per-address)
// history bound at or above the gateway-wide one cannot keep one client
// from taking every replay slot; it is allowed (at a concurrency of 1 no
// bound can be below) but the gateway says so once at start, naming both
// flags, and says nothing of bounds below it.
func TestHistoryBoundAtConcurrencyWarned(t *testing.T) {
	for _, tc := range []struct {
		name                            string
		concurrency, perClient, perAddr int
		want                            []string // flags the warnings name, in order
	}{
		{"defaults below", 4, 2, 0, nil},
		{"per-addr below", 4, 2, 3, nil},
		{"per-client equal", 4, 4, 0, []string{"gateway.history-per-client=4"}},
		{"per-client above", 2, 5, 0, []string{"gateway.history-per-client=5"}},
		{"concurrency 1", 1, 2, 0, []string{"gateway.history-per-client=2"}},
		{"both", 3, 3, 6, []string{"gateway.history-per-client=3", "gateway.history-per-addr=6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := gateway.DefaultConfig()
			cfg.HistoryConcurrency, cfg.HistoryPerClient, cfg.HistoryPerAddr = tc.concurrency, tc.perClient, tc.perAddr
			logs := newSyncBuf()
			startEnvLog(t, cfg, zerolog.New(logs).Level(zerolog.WarnLevel))
			var got []string
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, "is not below gateway.history-concurrency=") {
					got = append(got, line)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d warnings of a history bound %v, want %d naming %v; logs:\n%s", len(got), got, len(tc.want), tc.want, logs)
			}
			for i, flag := range tc.want {
				if !strings.Contains(got[i], flag) {
					t.Errorf("warning %q, want it naming %s", got[i], flag)
				}
			}
		})
	}
}
