package ingest

import (
	"math"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/clientaddr"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// nthClient is the n-th of many distinct IPv4 clients.
func nthClient(n int) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)}), 32)
}

// TestAuthGuardCapped: the guard remembers at most its cap of addresses,
// forgetting the one that failed least recently; one that keeps failing
// stays remembered, so many other clients do not unblock it.
func TestAuthGuardCapped(t *testing.T) {
	const max = 100
	g := newAuthGuard(1, 2, max)
	busy := netip.MustParsePrefix("192.0.2.1/32")
	for i := range 3 * max {
		for range 2 {
			g.failed(nthClient(i), t0)
		}
		g.failed(busy, t0)
		if n := g.len(); n > max {
			t.Fatalf("%d addresses remembered after %d clients, want at most %d", n, i+1, max)
		}
	}
	if _, blocked := g.blocked(busy, t0); !blocked {
		t.Error("the address failing all along was forgotten")
	}
	for i := range 3 * max {
		_, blocked := g.blocked(nthClient(i), t0)
		if want := i >= 3*max-(max-1); blocked != want {
			t.Errorf("client %d blocked %v, want %v (the latest %d kept beside the busy one)", i, blocked, want, max-1)
		}
	}
}

// TestAuthGuardHugeBurst: the largest burst an IPv6 client may be set
// is not turned, times its /48's factor, into a negative one that blocks
// at the first failure.
func TestAuthGuardHugeBurst(t *testing.T) {
	g := newAuthGuard(1, math.MaxInt, 10)
	client := netip.MustParsePrefix("2001:db8:1:2::/64")
	g.failed(client, t0)
	if b, blocked := g.blocked(client, t0); blocked {
		t.Fatalf("blocked after one failure with burst %d: %+v", math.MaxInt, b)
	}
}

// TestPeerPrefix: a request's failures count against its TCP peer's
// address (clientaddr.Parse), an IPv6 one by its /64 (clientaddr.Prefix),
// a peer that is not an address by the zero prefix.
func TestPeerPrefix(t *testing.T) {
	for _, c := range []struct{ remote, want string }{
		{"192.0.2.1:1234", "192.0.2.1/32"},
		{"[::ffff:192.0.2.1]:1234", "192.0.2.1/32"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:443", "fe80::/64"},
		{"192.0.2.9", "192.0.2.9/32"},
		{"@", "invalid Prefix"},
		{"", "invalid Prefix"},
	} {
		a, _ := clientaddr.Parse(c.remote)
		if got := clientaddr.Prefix(a).String(); got != c.want {
			t.Errorf("clientaddr.Prefix(clientaddr.Parse(%q)) = %s, want %s", c.remote, got, c.want)
		}
	}
}

// BenchmarkAuthGuardFull fills a guard of DefaultAuthFailAddrs addresses
// and reports the heap it holds then, in all (B/table) and per address.
// Run it with -benchmem: B/op is what one full table allocates.
func BenchmarkAuthGuardFull(b *testing.B) {
	b.ReportAllocs()
	var held uint64
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		g := newAuthGuard(DefaultAuthFailLimit, DefaultAuthFailBurst, DefaultAuthFailAddrs)
		for i := range DefaultAuthFailAddrs {
			g.failed(nthClient(i), t0)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held += after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(g)
	}
	b.ReportMetric(float64(held)/float64(b.N), "B/table")
	b.ReportMetric(float64(held)/float64(b.N)/DefaultAuthFailAddrs, "B/addr")
}

// BenchmarkAuthGuardChurn fails a new address each time on a full guard,
// evicting one each time: its size stays at the cap.
func BenchmarkAuthGuardChurn(b *testing.B) {
	g := newAuthGuard(DefaultAuthFailLimit, DefaultAuthFailBurst, DefaultAuthFailAddrs)
	for i := range DefaultAuthFailAddrs {
		g.failed(nthClient(i), t0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		g.failed(nthClient(DefaultAuthFailAddrs+i), t0)
	}
	b.StopTimer()
	if n := g.len(); n != DefaultAuthFailAddrs {
		b.Fatalf("%d addresses remembered, want %d", n, DefaultAuthFailAddrs)
	}
}
