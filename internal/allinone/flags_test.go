package allinone_test

import (
	"testing"

	"github.com/headroomhq/headroom/internal/allinone"
	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/cli"
)

// TestStreamCapFlags: the all-in-one runs the push API too, so it takes
// METRICS's per-series cap like the services, defaulting to theirs.
func TestStreamCapFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int64
	}{
		{nil, bus.DefaultMaxMsgsPerSeries},
		{[]string{"-stream.max-msgs-per-series", "5000"}, 5000},
		{[]string{"-stream.max-msgs-per-series", "-1"}, -1},
	} {
		cfg := allinone.DefaultConfig()
		f := cli.New("headroom", func(string) string { return "" })
		cfg.RegisterFlags(f)
		if err := f.Parse(c.args); err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		if got := cfg.Bus.Streams.MaxMsgsPerSeries; got != c.want {
			t.Errorf("%q: per-series cap %d, want %d", c.args, got, c.want)
		}
	}
}
