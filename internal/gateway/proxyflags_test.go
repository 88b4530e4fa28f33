package gateway_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/gateway"
)

// TestTrustedProxiesFlags: -gateway.trusted-proxies and
// -gateway.forwarded-header, or their HEADROOM_GATEWAY_* variables, set
// the gateway's own proxies and header (canonical case), checked as the
// push API's are: a /0, a block with host bits, a header other than the
// two are refused, naming the flag and its variable. By default no proxy
// is trusted and X-Forwarded-For would be read.
func TestTrustedProxiesFlags(t *testing.T) {
	for _, c := range []struct {
		name    string
		args    []string
		env     map[string]string
		proxies []string
		header  string
		err     string
	}{
		{name: "default", header: "X-Forwarded-For"},
		{name: "flags", args: []string{"-gateway.trusted-proxies", " 10.0.0.0/8, 192.0.2.5 ", "-gateway.forwarded-header", "forwarded"},
			proxies: []string{"10.0.0.0/8", "192.0.2.5"}, header: "Forwarded"},
		{name: "env", env: map[string]string{"HEADROOM_GATEWAY_TRUSTED_PROXIES": "2001:db8::/32", "HEADROOM_GATEWAY_FORWARDED_HEADER": "X-FORWARDED-FOR"},
			proxies: []string{"2001:db8::/32"}, header: "X-Forwarded-For"},
		{name: "flag over env", args: []string{"-gateway.trusted-proxies", "10.1.0.0/16"}, env: map[string]string{"HEADROOM_GATEWAY_TRUSTED_PROXIES": "10.0.0.0/8"},
			proxies: []string{"10.1.0.0/16"}, header: "X-Forwarded-For"},
		{name: "every address", args: []string{"-gateway.trusted-proxies", "0.0.0.0/0"},
			err: "gateway.trusted-proxies (HEADROOM_GATEWAY_TRUSTED_PROXIES): \"0.0.0.0/0\" trusts every address"},
		{name: "host bits", env: map[string]string{"HEADROOM_GATEWAY_TRUSTED_PROXIES": "10.0.0.5/8"},
			err: "gateway.trusted-proxies (HEADROOM_GATEWAY_TRUSTED_PROXIES): \"10.0.0.5/8\" has bits set past its /8"},
		{name: "header", args: []string{"-gateway.forwarded-header", "X-Real-IP"},
			err: "gateway.forwarded-header (HEADROOM_GATEWAY_FORWARDED_HEADER): \"X-Real-IP\": want X-Forwarded-For or Forwarded"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := gateway.DefaultConfig()
			f := cli.New("gateway", func(k string) string { return c.env[k] })
			cfg.RegisterFlags(f)
			if err := f.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			err := cfg.Validate()
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Validate: %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.TrustedProxies, c.proxies) || cfg.ForwardedHeader != c.header {
				t.Errorf("TrustedProxies %q, ForwardedHeader %q; want %q, %q", cfg.TrustedProxies, cfg.ForwardedHeader, c.proxies, c.header)
			}
		})
	}
}
