package clientaddr

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzForwarded feeds arbitrary Forwarded elements to forwardedElem: it
// must never panic; an element it reads without an address is blank (an
// empty element); an address it reads is valid, unmapped and without
// zone, and is read again, the same, from the element written back in
// the canonical form; an element it reads holds "for=" (any case).
// Through forwardedFor, the element behind an untrusted client's own
// element never changes who the client is.
func FuzzForwarded(f *testing.F) {
	for _, s := range []string{
		"for=192.0.2.60",
		`for="192.0.2.60:4711"`,
		`for="[2001:db8:cafe::17]:4711"`,
		`For="[2001:db8::1]";proto=https;by=203.0.113.43`,
		"for=unknown",
		"for=_hidden",
		`for="_gazonk"`,
		`for="\"[::1]"`,
		`for="[::ffff:192.0.2.1]:_p"`,
		"proto=http;host=example.com",
		`for="unterminated`,
		"for=192.0.2.1;for=192.0.2.2",
		";for=192.0.2.1;;proto=https;",
		"for=192.0.2.1;;for=192.0.2.2",
		" \t",
		"",
	} {
		f.Add(s)
	}
	trusted := Proxies{netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, elem string) {
		a, ok := forwardedElem(elem)
		if !ok {
			if a.IsValid() {
				t.Fatalf("forwardedElem(%q) = %s but unreadable", elem, a)
			}
		} else if !a.IsValid() {
			if strings.Trim(elem, " \t") != "" {
				t.Fatalf("forwardedElem(%q) readable without an address, but not blank", elem)
			}
		} else {
			if a.Is4In6() || a.Zone() != "" {
				t.Fatalf("forwardedElem(%q) = %s: want a valid address, unmapped, without zone", elem, a)
			}
			if !strings.Contains(strings.ToLower(elem), "for=") {
				t.Fatalf("forwardedElem(%q) = %s without a for parameter", elem, a)
			}
			canon := "for=" + a.String()
			if a.Is6() {
				canon = `for="[` + a.String() + `]"`
			}
			if b, ok := forwardedElem(canon); !ok || b != a {
				t.Fatalf("forwardedElem(%q) = %s, but its canonical %q reads %s, %v", elem, a, canon, b, ok)
			}
		}
		// A client's own element, whatever it is, left of the element
		// its (trusted) proxy appends naming it: the walk stops at the
		// client, 203.0.113.1, without reading the client's element.
		if got, found, readable := forwardedFor([]string{elem + ", for=203.0.113.1"}, trusted, forwardedElem); !found || !readable || got != netip.MustParseAddr("203.0.113.1") {
			t.Fatalf("after %q: client %s, %v, %v; want 203.0.113.1", elem, got, found, readable)
		}
	})
}
