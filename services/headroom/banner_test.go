package main

import (
	"strings"
	"testing"
)

// TestBanner: the printed dashboard address says how to give the page a
// configured gateway token, and never prints the token; without one it is
// the plain address.
func TestBanner(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token bool
		want  string
	}{
		{"no token", false, "Headroom dashboard: http://127.0.0.1:8080/\n"},
		{"token", true, "Headroom dashboard: http://127.0.0.1:8080/#token=<your -gateway.token> (open it once so)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := banner("127.0.0.1:8080", "nats://127.0.0.1:4222", tc.token)
			if !strings.Contains(got, tc.want) {
				t.Fatalf("banner %q, want it to hold %q", got, tc.want)
			}
			if !strings.Contains(got, "NATS:               nats://127.0.0.1:4222") {
				t.Fatalf("banner %q names no NATS address", got)
			}
		})
	}
}
