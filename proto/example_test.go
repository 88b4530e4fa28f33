package proto_test

import (
	"fmt"
	"time"

	"github.com/headroomhq/headroom/proto"
)

func ExampleMetricsSubject() {
	fmt.Println(proto.MetricsSubject(proto.DefaultPrefix, "shop", "web"))
	fmt.Println(proto.Filter(proto.DefaultPrefix, proto.KindMetrics))
	fmt.Println(proto.SplitStored(proto.DefaultPrefix, "apm.metrics.shop.web.5"))
	// Output:
	// apm.metrics.shop.web
	// apm.metrics.>
	// apm.metrics.shop.web 5
}

func ExampleDecode() {
	tick := proto.NewMetrics("shop", "web", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 3, map[string]float64{"rps": 120.5})
	data, _ := proto.Encode(tick)

	var got proto.Metrics
	if err := proto.Decode(data, &got); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(got.ID, got.EventTime().Format(time.RFC3339), got.Values["rps"])
	// Output: m.shop.web.1767323045000 2026-01-02T03:04:05Z 120.5
}

func ExampleParseSubject() {
	kind, app, tier, err := proto.ParseSubject("apm", "apm.decision.shop.db")
	fmt.Println(kind, app, tier, err)
	// Output: decision shop db <nil>
}
