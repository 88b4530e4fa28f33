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

// TestForwardedFor walks X-Forwarded-For from the right to the first
// address that is not a trusted proxy.
func TestForwardedFor(t *testing.T) {
	trusted := proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	for _, c := range []struct {
		xff             []string
		want            string
		found, readable bool
	}{
		{nil, "invalid IP", false, true},
		{[]string{"203.0.113.1"}, "203.0.113.1", true, true},
		{[]string{"198.51.100.9, 203.0.113.1"}, "203.0.113.1", true, true},
		{[]string{"198.51.100.9,203.0.113.1, 10.0.0.3"}, "203.0.113.1", true, true},
		{[]string{"198.51.100.9", "203.0.113.1", "10.0.0.3 , 10.1.1.1"}, "203.0.113.1", true, true},
		{[]string{"203.0.113.1:4711"}, "203.0.113.1", true, true},
		{[]string{"[2001:db8::1]:4711"}, "2001:db8::1", true, true},
		{[]string{"[2001:db8::1]"}, "2001:db8::1", true, true},
		{[]string{"::ffff:203.0.113.1"}, "203.0.113.1", true, true},
		{[]string{"10.0.0.7, 2001:db8:ffff::9"}, "10.0.0.7", true, true},
		{[]string{"garbage, 203.0.113.1"}, "203.0.113.1", true, true},
		{[]string{"203.0.113.1, unknown"}, "invalid IP", true, false},
		{[]string{"203.0.113.1, "}, "invalid IP", true, false},
		{[]string{""}, "invalid IP", true, false},
		{[]string{"203.0.113.1", "10.0.0.3, proxy.example"}, "invalid IP", true, false},
	} {
		a, found, readable := forwardedFor(c.xff, trusted, forwardedAddr)
		if a.String() != c.want || found != c.found || readable != c.readable {
			t.Errorf("forwardedFor(%q) = %s, %v, %v; want %s, %v, %v", c.xff, a, found, readable, c.want, c.found, c.readable)
		}
	}
}

// TestForwardedRFC7239 walks Forwarded (RFC 7239) elements from the right
// as X-Forwarded-For's entries are, reading each element's for parameter.
func TestForwardedRFC7239(t *testing.T) {
	trusted := proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	for _, c := range []struct {
		fwd             []string
		want            string
		found, readable bool
	}{
		{nil, "invalid IP", false, true},
		{[]string{"for=203.0.113.1"}, "203.0.113.1", true, true},
		{[]string{`for="203.0.113.1"`}, "203.0.113.1", true, true},
		{[]string{`for="203.0.113.1:4711"`}, "203.0.113.1", true, true},
		{[]string{`for="203.0.113.1:_p1"`}, "203.0.113.1", true, true},
		{[]string{`for="[2001:db8::1]"`}, "2001:db8::1", true, true},
		{[]string{`For="[2001:db8::1]:4711"`}, "2001:db8::1", true, true},
		{[]string{`for="[::ffff:203.0.113.1]"`}, "203.0.113.1", true, true},
		{[]string{`FOR=203.0.113.1;Proto=https;BY="[2001:db8:ffff::1]"`}, "203.0.113.1", true, true},
		{[]string{"proto=https; for=203.0.113.1 ;host=example.com"}, "203.0.113.1", true, true},
		{[]string{`for=198.51.100.9, for=203.0.113.1`}, "203.0.113.1", true, true},
		{[]string{`for=198.51.100.9,for=203.0.113.1, for=10.0.0.3`}, "203.0.113.1", true, true},
		{[]string{"for=198.51.100.9", "for=203.0.113.1", `for=10.0.0.3, for="[2001:db8:ffff::2]:80"`}, "203.0.113.1", true, true},
		{[]string{"for=10.0.0.7, for=10.0.0.8"}, "10.0.0.7", true, true},
		// Empty pairs and empty elements, as the ABNF and the list rule
		// allow: skipped.
		{[]string{"for=203.0.113.1;"}, "203.0.113.1", true, true},
		{[]string{";for=203.0.113.1;;proto=https; "}, "203.0.113.1", true, true},
		{[]string{"for=203.0.113.1, "}, "203.0.113.1", true, true},
		{[]string{"for=203.0.113.1, , for=10.0.0.3,"}, "203.0.113.1", true, true},
		{[]string{"for=203.0.113.1", "", " , "}, "203.0.113.1", true, true},
		{[]string{""}, "invalid IP", false, true},
		{[]string{" , ,", ""}, "invalid IP", false, true},
		// What a client writes left of its proxy's element is never read.
		{[]string{`for="unterminated, for=203.0.113.1`}, "203.0.113.1", true, true},
		{[]string{`for=unknown, for=203.0.113.1`}, "203.0.113.1", true, true},
		// Unreadable where the walk reaches it.
		{[]string{"for=unknown"}, "invalid IP", true, false},
		{[]string{"for=_hidden"}, "invalid IP", true, false},
		{[]string{`for="_gazonk"`}, "invalid IP", true, false},
		{[]string{"for=203.0.113.1, for=unknown"}, "invalid IP", true, false},
		{[]string{"for=203.0.113.1:4711"}, "invalid IP", true, false}, // a port unquoted
		{[]string{`for="2001:db8::1"`}, "invalid IP", true, false},    // IPv6 without brackets
		{[]string{`for=[2001:db8::1]`}, "invalid IP", true, false},    // brackets unquoted
		{[]string{`for="[2001:db8::1"`}, "invalid IP", true, false},
		{[]string{`for="[203.0.113.1]"`}, "invalid IP", true, false},
		{[]string{`for="[fe80::1%eth0]"`}, "invalid IP", true, false},
		{[]string{`for="203.0.113.1:99999"`}, "invalid IP", true, false},
		{[]string{`for="203.0.113.1:"`}, "invalid IP", true, false},
		{[]string{"proto=https"}, "invalid IP", true, false},
		{[]string{"for=203.0.113.1;for=198.51.100.9"}, "invalid IP", true, false},
		{[]string{"for=203.0.113.1;;FOR=198.51.100.9"}, "invalid IP", true, false},
		{[]string{";"}, "invalid IP", true, false},
		{[]string{"for=203.0.113.1;="}, "invalid IP", true, false},
		{[]string{"for=203.0.113.1, ;"}, "invalid IP", true, false},
		{[]string{"for=203.0.113.1 proto=https"}, "invalid IP", true, false},
		{[]string{"for=proxy.example"}, "invalid IP", true, false},
		{[]string{"for="}, "invalid IP", true, false},
		{[]string{"203.0.113.1"}, "invalid IP", true, false},
		{[]string{"for=203.0.113.1", "for=10.0.0.3, for=unknown"}, "invalid IP", true, false},
	} {
		a, found, readable := forwardedFor(c.fwd, trusted, forwardedElem)
		if a.String() != c.want || found != c.found || readable != c.readable {
			t.Errorf("forwardedFor(%q) = %s, %v, %v; want %s, %v, %v", c.fwd, a, found, readable, c.want, c.found, c.readable)
		}
	}
}
