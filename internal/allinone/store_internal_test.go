package allinone

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/headroomhq/headroom/internal/bus"
)

// TestStoreLimit: each stream counts at the larger of its cap now and the
// one it was recovered with, a recovered stream provisioning does not make
// at its own, and a stream without a cap leaves the server its default.
func TestStoreLimit(t *testing.T) {
	rs := []bus.Reservation{{Stream: "A", Bytes: 10}, {Stream: "B", Bytes: 10}, {Stream: "KV_R", Bytes: 3}}
	uncapped := []bus.Reservation{{Stream: "A", Bytes: -1}, {Stream: "KV_R", Bytes: 3}}
	for _, c := range []struct {
		name      string
		rs        []bus.Reservation
		recovered map[string]int64
		dflt      int64
		want      int64
	}{
		{"new data folder", rs, nil, 1000, 23},
		{"same caps", rs, map[string]int64{"A": 10, "B": 10, "KV_R": 3}, 1000, 23},
		{"caps lowered", rs, map[string]int64{"A": 40, "B": 40, "KV_R": 3}, 1000, 83},
		{"caps raised", rs, map[string]int64{"A": 5, "B": 5}, 1000, 23},
		{"stream recovered uncapped", rs, map[string]int64{"A": -1}, 1000, 23},
		{"another prefix's stream", rs, map[string]int64{"OTHER_A": 7}, 1000, 30},
		{"no cap", uncapped, nil, 1000, 0},
		{"no cap, recovered uncapped", uncapped, map[string]int64{"A": -1}, 1000, 0},
		{"no cap, caps recovered beyond the default", uncapped, map[string]int64{"A": 40, "KV_R": 3}, 20, 43},
		{"no cap, caps recovered within the default", uncapped, map[string]int64{"A": 40, "KV_R": 3}, 1000, 1000},
		{"no cap, caps recovered, default unknown", uncapped, map[string]int64{"A": 40}, 0, server.JetStreamMaxStoreDefault},
	} {
		if got := storeLimit(c.rs, c.recovered, c.dflt); got != c.want {
			t.Errorf("%s: storeLimit = %d, want %d", c.name, got, c.want)
		}
	}
}

// TestStoreReportShort: the disk is short when it has less free than the
// streams may still grow by, and the cap that fits leaves room for the
// buckets and counts what is stored.
func TestStoreReportShort(t *testing.T) {
	for _, c := range []struct {
		name  string
		r     storeReport
		short bool
		fits  int64
	}{
		{"room", storeReport{Reserved: 100, Free: 100, FreeKnown: true, Streams: 6, Buckets: 4}, false, 0},
		{"room with data stored", storeReport{Reserved: 100, Stored: 60, Free: 40, FreeKnown: true, Streams: 6, Buckets: 4}, false, 0},
		{"short", storeReport{Reserved: 100, Stored: 10, Free: 50, FreeKnown: true, Streams: 6, Buckets: 4}, true, 9},
		{"nothing fits", storeReport{Reserved: 100, Free: 1, FreeKnown: true, Streams: 6, Buckets: 4}, true, 0},
		{"free unknown", storeReport{Reserved: 100, Streams: 6, Buckets: 4}, false, 0},
		{"no limit", storeReport{Free: 1, FreeKnown: true, Streams: 6, Buckets: 4}, false, 0},
	} {
		if short, fits := c.r.short(); short != c.short || fits != c.fits {
			t.Errorf("%s: short() = %v, %d, want %v, %d", c.name, short, fits, c.short, c.fits)
		}
	}
}
