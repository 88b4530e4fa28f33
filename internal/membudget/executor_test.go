package membudget

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/executor"
)

// feedExecutorSim builds the executor's simulated clusters for the tiers:
// executor.SimDriver, the very driver the executor scales the tiers of
// the sim driver with, and its shadow of every tier in any mode, given
// each tier's decided count every five minutes of the history (what the
// decider decides for load l on replicas of 100 req/s at 70 %) and
// observed every minute, as the executor's ticks observe it. The rest of
// the executor's per-tier state (its cache of the replica bucket, the
// lease bookkeeping) sits on its JetStream decision path and is not fed
// here (see doc.go).
func feedExecutorSim(tb testing.TB, h *history, shards [][]key, tiers int) any {
	cfg := executor.DefaultConfig()
	drivers := make([]*executor.SimDriver, len(shards))
	parallel(tb, shards, func(n int, sh []key) error {
		d := executor.NewSimDriver(map[string]time.Duration{"web": time.Minute, "cache": 3 * time.Minute, "db": 10 * time.Minute},
			cfg.DefaultBootDelay, 0.01, 1)
		for i := 0; i <= h.n; i++ {
			t := at(i)
			for _, k := range sh {
				if i%5 == 0 {
					want := max(1, int(math.Ceil(k.scale*h.load[i]/70)))
					if _, err := d.Scale(context.Background(), executor.Request{App: k.app, Tier: k.tier, Replicas: want,
						DecisionID: fmt.Sprintf("%s.%s-%d", k.app, k.tier, i), Time: t}); err != nil {
						return err
					}
				}
				if _, ok := d.Observe(k.app, k.tier, t); !ok {
					return fmt.Errorf("%s.%s: no cluster after its first decision", k.app, k.tier)
				}
			}
		}
		drivers[n] = d
		return nil
	})
	return drivers
}
