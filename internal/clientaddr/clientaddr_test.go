package clientaddr_test

import (
	"testing"

	"github.com/headroomhq/headroom/internal/clientaddr"
)

func TestParsePrefix(t *testing.T) {
	cases := []struct {
		remote string
		ok     bool
		want   string // Prefix of the parsed address
	}{
		{"192.0.2.7:4711", true, "192.0.2.7/32"},
		{"192.0.2.7", true, "192.0.2.7/32"},
		{"[::ffff:192.0.2.7]:80", true, "192.0.2.7/32"},
		{"[2001:db8:1:2:3:4:5:6]:80", true, "2001:db8:1:2::/64"},
		{"2001:db8:1:2:3:4:5:6", true, "2001:db8:1:2::/64"},
		{"[fe80::1%eth0]:80", true, "fe80::/64"},
		{"fe80::1%eth0", true, "fe80::/64"},
		{"[2001:db8::1]", false, "invalid Prefix"},
		{"example.com:80", false, "invalid Prefix"},
		{"@", false, "invalid Prefix"},
		{"", false, "invalid Prefix"},
	}
	for _, c := range cases {
		a, ok := clientaddr.Parse(c.remote)
		if ok != c.ok {
			t.Errorf("Parse(%q) ok = %v, want %v", c.remote, ok, c.ok)
		}
		if a.Zone() != "" {
			t.Errorf("Parse(%q) = %s: kept its zone", c.remote, a)
		}
		if got := clientaddr.Prefix(a).String(); got != c.want {
			t.Errorf("Prefix(Parse(%q)) = %s, want %s", c.remote, got, c.want)
		}
	}
}
