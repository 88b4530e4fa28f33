package clientaddr

import (
	"net/netip"
	"testing"
)

// TestForwardedFor walks X-Forwarded-For from the right to the first
// address that is not a trusted proxy.
func TestForwardedFor(t *testing.T) {
	trusted := Proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
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
	trusted := Proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
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
