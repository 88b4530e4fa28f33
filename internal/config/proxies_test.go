package config_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/config"
)

// TestParseTrustedProxy reads CIDRs and addresses, and refuses what would
// trust more than meant: bits past the length, a /0, written as an
// IPv4-mapped /96 too, a block wider than /8 (IPv4) or /7 (IPv6).
func TestParseTrustedProxy(t *testing.T) {
	for _, c := range []struct {
		in, want, err string
	}{
		{"10.0.0.0/8", "10.0.0.0/8", ""},
		{"10.0.0.5", "10.0.0.5/32", ""},
		{"2001:db8::/32", "2001:db8::/32", ""},
		{"2001:db8::7", "2001:db8::7/128", ""},
		{"::ffff:10.0.0.5", "10.0.0.5/32", ""},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", ""},
		{"10.0.0.5/8", "", "bits set past its /8: write 10.0.0.0/8"},
		{"0.0.0.0/0", "", "trusts every address"},
		{"::/0", "", "trusts every address"},
		{"::ffff:0:0/96", "", "trusts every address"},
		{"::ffff:0.0.0.0/96", "", "trusts every address"},
		{"0.0.0.0/1", "", "trusts a block wider than /8"},
		{"128.0.0.0/1", "", "trusts a block wider than /8"},
		{"::ffff:0:0/97", "", "trusts a block wider than /8"},
		{"8.0.0.0/7", "", "trusts a block wider than /8"},
		{"::/1", "", "trusts a block wider than /7"},
		{"2000::/3", "", "trusts a block wider than /7"},
		{"fc00::/7", "fc00::/7", ""},
		{"172.16.0.0/12", "172.16.0.0/12", ""},
		{"proxy.example.com", "", "want a CIDR"},
		{"fe80::1%eth0", "", "want a CIDR"},
		{"", "", "want a CIDR"},
	} {
		p, err := config.ParseTrustedProxy(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v, %v; want an error with %q", c.in, p, err, c.err)
			}
			continue
		}
		if err != nil || p != netip.MustParsePrefix(c.want) {
			t.Errorf("%q: %v, %v; want %s", c.in, p, err, c.want)
		}
	}
}

// TestPushAuthFailAndProxyKeys reads push.auth_fail_limit,
// push.auth_fail_burst and push.trusted_proxies, absent ones left nil, and
// refuses bad values at their lines with the push API's own checks.
func TestPushAuthFailAndProxyKeys(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte("push:\n  auth_fail_limit: 0.5\n  auth_fail_burst: 3\n  trusted_proxies: [10.0.0.0/8, \"2001:db8::1\"]\napps:\n  shop: {source: sim}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := f.Push
	if p.AuthFailLimit == nil || *p.AuthFailLimit != 0.5 || p.AuthFailBurst == nil || *p.AuthFailBurst != 3 || strings.Join(p.TrustedProxies, ",") != "10.0.0.0/8,2001:db8::1" {
		t.Fatalf("push %+v", p)
	}
	f, err = config.Parse("x.yaml", []byte("push:\n  auth_fail_limit: 0\napps:\n  shop: {source: sim}\n"))
	if err != nil || f.Push.AuthFailLimit == nil || *f.Push.AuthFailLimit != 0 || f.Push.AuthFailBurst != nil || f.Push.TrustedProxies != nil {
		t.Fatalf("the limit off: %+v, %v", f, err)
	}
	f, err = config.Parse("x.yaml", []byte("apps:\n  shop: {source: sim}\n"))
	if err != nil || f.Push.AuthFailLimit != nil || f.Push.AuthFailBurst != nil {
		t.Fatalf("absent: %+v, %v", f, err)
	}
	for _, c := range []struct{ yaml, want string }{
		{"  auth_fail_limit: -1\n", "x.yaml:2: push.auth_fail_limit: -1 is negative: want failed authentications per second"},
		{"  auth_fail_limit: .nan\n", "x.yaml:2: push.auth_fail_limit: NaN: want failed authentications per second"},
		{"  auth_fail_burst: 0\n", "x.yaml:2: push.auth_fail_burst: 0: want at least 1"},
		{"  auth_fail_burst: -2\n", "x.yaml:2: push.auth_fail_burst: -2: want at least 1"},
		{"  trusted_proxies:\n    - 10.0.0.0/8\n    - 10.0.0.5/8\n", "x.yaml:4: push.trusted_proxies[1]: \"10.0.0.5/8\" has bits set"},
		{"  trusted_proxies: [0.0.0.0/0]\n", "push.trusted_proxies[0]: \"0.0.0.0/0\" trusts every address"},
	} {
		_, err := config.Parse("x.yaml", []byte("push:\n"+c.yaml+"apps:\n  shop: {source: sim}\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.yaml, err, c.want)
		}
	}
}

// TestTrustedProxiesKeyPresence: Load tells the file's push.trusted_proxies
// key present, empty or null included, from its absence, so an empty
// list can clear -push.trusted-proxies.
func TestTrustedProxiesKeyPresence(t *testing.T) {
	for _, tc := range []struct {
		push string
		set  bool
		want int
	}{
		{"", false, 0},
		{"  trusted_proxies: []\n", true, 0},
		{"  trusted_proxies:\n", true, 0},
		{"  trusted_proxies: [10.0.12.0/24]\n", true, 1},
		{"  max_concurrent: 4\n", false, 0},
	} {
		path := filepath.Join(t.TempDir(), "headroom.yaml")
		if err := os.WriteFile(path, []byte("push:\n"+tc.push+"  rate_burst: 10\napps:\n  shop: {source: sim}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := config.Load(path)
		if err != nil {
			t.Fatalf("%q: %v", tc.push, err)
		}
		if f.Push.TrustedProxiesSet != tc.set || len(f.Push.TrustedProxies) != tc.want {
			t.Errorf("%q: set %v with %d proxies, want %v with %d", tc.push, f.Push.TrustedProxiesSet, len(f.Push.TrustedProxies), tc.set, tc.want)
		}
	}
}
