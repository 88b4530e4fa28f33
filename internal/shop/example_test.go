package shop_test

import (
	"fmt"
	"time"

	"github.com/headroomhq/headroom/internal/shop"
)

// A collector seeds the cluster from the model, then ticks it with whatever
// replicas the executor reports ready.
func ExampleModel_Tick() {
	cfg := shop.DefaultConfig()
	cfg.Seed = 42
	m, err := shop.New(cfg)
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC)
	ready := m.InitialReplicas(at, 0.7)
	fmt.Println("replicas:", ready[shop.TierWeb], ready[shop.TierCache], ready[shop.TierDB])
	for _, s := range m.Tick(at, ready) {
		fmt.Printf("%s rps=%.0f cpu=%.2f p99=%.0fms errors=%.3f\n", s.Tier,
			s.Values[shop.MetricRPS], s.Values[shop.MetricCPU], s.Values[shop.MetricLatencyP99], s.Values[shop.MetricErrorRate])
	}
	// Output:
	// replicas: 17 11 7
	// web rps=714 cpu=0.70 p99=102ms errors=0.001
	// cache rps=2856 cpu=0.66 p99=2ms errors=0.000
	// db rps=677 cpu=0.67 p99=29ms errors=0.001
}
