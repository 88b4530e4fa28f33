package ingest_test

import (
	"fmt"
	"time"

	"github.com/headroomhq/headroom/internal/ingest"
)

// ExampleParse validates a pushed batch: one bad value rejects the whole
// request, naming the field.
func ExampleParse() {
	now := time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)
	good := `{"app":"shop","tier":"web","time":"2026-01-02T03:04:05Z","replicas":3,"values":{"rps":120.5,"cpu":0.41}}`
	ticks, _ := ingest.Parse([]byte(good), ingest.JSON, now, ingest.DefaultConfig())
	fmt.Println(ticks[0].ID, ticks[0].Values["rps"], ticks[0].Source)

	bad := `[` + good + `,{"app":"shop","tier":"web","time":"2026-01-02T03:04:10Z","replicas":3,"values":{"rps":1e400}}]`
	_, err := ingest.Parse([]byte(bad), ingest.JSON, now, ingest.DefaultConfig())
	fmt.Println(err.Status, err)
	// Output:
	// m.shop.web.1767323045000 120.5 push
	// 400 [1].values.rps: 1e400 overflows a float64
}
