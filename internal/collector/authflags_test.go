package collector_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/ingest"
)

// TestPushAuthFailFlags: the push API's limit on failed authentications
// is set by -push.auth-fail-limit and -push.auth-fail-burst, or their
// HEADROOM_ variables, defaulting to ingest's; a bad value fails Validate.
func TestPushAuthFailFlags(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		env       map[string]string
		limit     float64
		burst     int
		wantError bool
	}{
		{nil, nil, ingest.DefaultAuthFailLimit, ingest.DefaultAuthFailBurst, false},
		{[]string{"-push.auth-fail-limit", "0.5", "-push.auth-fail-burst", "3"}, nil, 0.5, 3, false},
		{nil, map[string]string{"HEADROOM_PUSH_AUTH_FAIL_LIMIT": "0", "HEADROOM_PUSH_AUTH_FAIL_BURST": "0"}, 0, 0, false},
		{nil, map[string]string{"HEADROOM_PUSH_AUTH_FAIL_LIMIT": "-1"}, -1, ingest.DefaultAuthFailBurst, true},
		{[]string{"-push.auth-fail-burst", "0"}, nil, ingest.DefaultAuthFailLimit, 0, true},
	} {
		c := collector.DefaultConfig()
		f := cli.New("collector", func(k string) string { return tc.env[k] })
		c.RegisterFlags(f)
		if err := f.Parse(tc.args); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if c.Push.AuthFailLimit != tc.limit || c.Push.AuthFailBurst != tc.burst {
			t.Errorf("%v %v: limit %v burst %d, want %v and %d", tc.args, tc.env, c.Push.AuthFailLimit, c.Push.AuthFailBurst, tc.limit, tc.burst)
		}
		if err := c.Validate(); (err != nil) != tc.wantError {
			t.Errorf("%v %v: Validate() = %v, want an error %v", tc.args, tc.env, err, tc.wantError)
		}
	}
}

// TestPushAuthFailFromFile: push.auth_fail_limit and push.auth_fail_burst
// in the file replace the flags' values, as push.rate_limit does; absent,
// the flags' stay; the file's values pass the push API's checks.
func TestPushAuthFailFromFile(t *testing.T) {
	for _, tc := range []struct {
		yaml  string
		limit float64
		burst int
	}{
		{"", 0.5, 3},
		{"  auth_fail_limit: 4\n", 4, 3},
		{"  auth_fail_burst: 7\n", 0.5, 7},
		{"  auth_fail_limit: 0\n", 0, 3},
	} {
		f, err := config.Parse("x.yaml", []byte("push:\n"+tc.yaml+"apps:\n  shop: {source: sim}\n"))
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		c := collector.DefaultConfig()
		fl := cli.New("collector", func(string) string { return "" })
		c.RegisterFlags(fl)
		if err := fl.Parse([]string{"-push.auth-fail-limit", "0.5", "-push.auth-fail-burst", "3"}); err != nil {
			t.Fatal(err)
		}
		c.File = f
		p := c.PushConfig()
		if p.AuthFailLimit != tc.limit || p.AuthFailBurst != tc.burst {
			t.Errorf("%q: limit %v burst %d, want %v and %d", tc.yaml, p.AuthFailLimit, p.AuthFailBurst, tc.limit, tc.burst)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%q: %v", tc.yaml, err)
		}
	}
}

// TestPushTrustedProxiesFlagAndFile: -push.trusted-proxies (or
// HEADROOM_PUSH_TRUSTED_PROXIES) sets the push API's trusted proxies, the
// file's push.trusted_proxies replaces them; a bad entry fails Validate.
func TestPushTrustedProxiesFlagAndFile(t *testing.T) {
	parse := func(args []string, env map[string]string) collector.Config {
		t.Helper()
		c := collector.DefaultConfig()
		f := cli.New("collector", func(k string) string { return env[k] })
		c.RegisterFlags(f)
		if err := f.Parse(args); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if got := parse(nil, nil).PushConfig().TrustedProxies; got != nil {
		t.Errorf("default: %q, want none", got)
	}
	c := parse([]string{"-push.trusted-proxies", "10.0.0.0/8, 2001:db8::1"}, nil)
	if got := strings.Join(c.PushConfig().TrustedProxies, ","); got != "10.0.0.0/8,2001:db8::1" || c.Validate() != nil {
		t.Errorf("flag: %q, %v", got, c.Validate())
	}
	c = parse(nil, map[string]string{"HEADROOM_PUSH_TRUSTED_PROXIES": "192.0.2.0/24"})
	if got := strings.Join(c.PushConfig().TrustedProxies, ","); got != "192.0.2.0/24" {
		t.Errorf("environment: %q", got)
	}
	f, err := config.Parse("x.yaml", []byte("push:\n  trusted_proxies: [172.16.0.0/12]\napps:\n  shop: {source: sim}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.File = f
	if got := strings.Join(c.PushConfig().TrustedProxies, ","); got != "172.16.0.0/12" {
		t.Errorf("the file over the environment: %q", got)
	}
	c = parse([]string{"-push.trusted-proxies", "10.0.0.0/8,0.0.0.0/0"}, nil)
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `push trusted proxy "0.0.0.0/0" trusts every address`) {
		t.Errorf("a /0: %v", err)
	}
}

// TestShortFlagTokenReplacedByFile: a -push.token shorter than 16 bytes
// fails the start even when the file's push.token replaces it, naming the
// flag, never the token; a long one beside the file's passes.
func TestShortFlagTokenReplacedByFile(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte("push:\n  token: file-token-0123456789abcdef\napps:\n  shop: {source: sim}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		token string
		ok    bool
	}{
		{"hunter2", false}, {"hunter2-hunter2-hunter2", true}, {"", true},
	} {
		c := collector.DefaultConfig()
		c.File = f
		c.Push.Token = tc.token
		err := c.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("-push.token of %d bytes beside the file's: %v, want ok=%v", len(tc.token), err, tc.ok)
			continue
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, config.ErrWeakSecret) || !strings.Contains(err.Error(), "-push.token or HEADROOM_PUSH_TOKEN, replaced by the file's push.token): 7 bytes") {
			t.Errorf("%v", err)
		}
		if strings.Contains(err.Error(), tc.token) {
			t.Errorf("the error quotes the token: %v", err)
		}
	}
}

// TestBadFlagProxiesReplacedByFile: a wrong -push.trusted-proxies entry
// fails the start even when the file's push.trusted_proxies replaces the
// flag's list, as it does without the file.
func TestBadFlagProxiesReplacedByFile(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte("push:\n  trusted_proxies: [10.0.12.0/24]\napps:\n  shop: {source: sim}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		flag string
		ok   bool
	}{
		{"0.0.0.0/0", false}, {"10.0.0.5/8", false}, {"10.0.12.7, 10.0.13.0/24", true}, {"", true},
	} {
		c := collector.DefaultConfig()
		c.File = f
		c.TrustedProxies = tc.flag
		err := c.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("-push.trusted-proxies %q beside the file's: %v, want ok=%v", tc.flag, err, tc.ok)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), "-push.trusted-proxies (HEADROOM_PUSH_TRUSTED_PROXIES, replaced by the file's push.trusted_proxies)") {
			t.Errorf("%q: %v, want the flag named", tc.flag, err)
		}
	}
}

// TestPushForwardedHeaderFlagAndFile: -push.forwarded-header (or
// HEADROOM_PUSH_FORWARDED_HEADER) says which header the trusted proxies
// name the client in, X-Forwarded-For by default; the file's
// push.forwarded_header replaces it, in its canonical case; another
// header fails the start, from the flag or the file.
func TestPushForwardedHeaderFlagAndFile(t *testing.T) {
	parse := func(args []string, env map[string]string) collector.Config {
		t.Helper()
		c := collector.DefaultConfig()
		f := cli.New("collector", func(k string) string { return env[k] })
		c.RegisterFlags(f)
		if err := f.Parse(args); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if got := parse(nil, nil).PushConfig().ForwardedHeader; got != "X-Forwarded-For" {
		t.Errorf("default: %q", got)
	}
	c := parse([]string{"-push.forwarded-header", "forwarded"}, nil)
	if got := c.PushConfig().ForwardedHeader; got != "forwarded" || c.Validate() != nil {
		t.Errorf("flag: %q, %v", got, c.Validate())
	}
	c = parse(nil, map[string]string{"HEADROOM_PUSH_FORWARDED_HEADER": "X-Real-IP"})
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `push forwarded header "X-Real-IP"`) {
		t.Errorf("environment X-Real-IP: %v", err)
	}
	f, err := config.Parse("x.yaml", []byte("push:\n  forwarded_header: FORWARDED\napps:\n  shop: {source: sim}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c = parse(nil, nil)
	c.File = f
	if got := c.PushConfig().ForwardedHeader; got != "Forwarded" || c.Validate() != nil {
		t.Errorf("the file over the flag: %q, %v", got, c.Validate())
	}
	if _, err := config.Parse("x.yaml", []byte("push:\n  forwarded_header: X-Real-IP\napps:\n  shop: {source: sim}\n")); err == nil || !strings.Contains(err.Error(), `x.yaml:2: push.forwarded_header: "X-Real-IP": want X-Forwarded-For or Forwarded`) {
		t.Errorf("the file's X-Real-IP: %v", err)
	}
}

// TestFileEmptyTrustedProxiesClearsFlag: push.trusted_proxies present in
// the file replaces -push.trusted-proxies even when empty, so "[]" turns
// X-Forwarded-For off where the flag (or its variable) turned it on;
// absent, the flag's list stays. Read through config.Load.
func TestFileEmptyTrustedProxiesClearsFlag(t *testing.T) {
	for _, tc := range []struct {
		push string
		want string
	}{
		{"  trusted_proxies: []\n", ""},
		{"  trusted_proxies:\n", ""},
		{"  trusted_proxies: [172.16.0.0/12]\n", "172.16.0.0/12"},
		{"", "10.0.0.0/8"},
	} {
		path := filepath.Join(t.TempDir(), "headroom.yaml")
		if err := os.WriteFile(path, []byte("push:\n"+tc.push+"  rate_burst: 10\napps:\n  shop: {source: sim}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := config.Load(path)
		if err != nil {
			t.Fatalf("%q: %v", tc.push, err)
		}
		c := collector.DefaultConfig()
		fl := cli.New("collector", func(k string) string {
			return map[string]string{"HEADROOM_PUSH_TRUSTED_PROXIES": "10.0.0.0/8"}[k]
		})
		c.RegisterFlags(fl)
		if err := fl.Parse(nil); err != nil {
			t.Fatal(err)
		}
		c.File = f
		if got := strings.Join(c.PushConfig().TrustedProxies, ","); got != tc.want {
			t.Errorf("%q over the flag's 10.0.0.0/8: trusted %q, want %q", tc.push, got, tc.want)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%q: %v", tc.push, err)
		}
	}
}

// TestBadPushFlagRefusedWhateverTheFile: every push flag with a check
// refuses a bad value of its own, alone and when the file's key replaces
// it (the file alone passing), naming the flag and its variable once,
// and the file's key when it replaces the flag; never a token.
func TestBadPushFlagRefusedWhateverTheFile(t *testing.T) {
	for _, tc := range []struct {
		flag, bad string
		file      string // the file's key replacing the flag, and its value
	}{
		{"push.token", "hunter2", "token: file-token-0123456789abcdef"},
		{"push.rate-limit", "-1", "rate_limit: 5"},
		{"push.rate-burst", "0", "rate_burst: 5"},
		{"push.auth-fail-limit", "NaN", "auth_fail_limit: 2"},
		{"push.auth-fail-burst", "0", "auth_fail_burst: 3"},
		{"push.trusted-proxies", "0.0.0.0/0", "trusted_proxies: [10.0.12.0/24]"},
		{"push.trusted-proxies", "10.0.0.5/8", "trusted_proxies: []"},
		{"push.forwarded-header", "X-Real-IP", "forwarded_header: Forwarded"},
		{"push.max-body", "0", "max_body_bytes: 1000"},
		{"push.max-skew", "-1s", "max_future_skew: 1m"},
		{"push.max-age", "0s", "max_age: 1h"},
		{"push.max-concurrent", "0", "max_concurrent: 4"},
		{"push.read-timeout", "-1s", "read_timeout: 5s"},
	} {
		f, err := config.Parse("x.yaml", []byte("push:\n  "+tc.file+"\napps:\n  shop: {source: sim}\n"))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		key := "push." + strings.SplitN(tc.file, ":", 2)[0]
		for _, withFile := range []bool{false, true} {
			c := collector.DefaultConfig()
			fl := cli.New("collector", func(string) string { return "" })
			c.RegisterFlags(fl)
			if withFile {
				c.File = f
				if err := c.Validate(); err != nil {
					t.Fatalf("the file's %s alone: %v", tc.file, err)
				}
			}
			if err := fl.Parse([]string{"-" + tc.flag, tc.bad}); err != nil {
				t.Fatalf("-%s %s: %v", tc.flag, tc.bad, err)
			}
			err := c.Validate()
			where := "-" + tc.flag + " (" + cli.EnvName(tc.flag)
			if tc.flag == "push.token" {
				where = "-" + tc.flag + " or " + cli.EnvName(tc.flag)
			}
			if withFile {
				where += ", replaced by the file's " + key + ")"
			}
			switch {
			case err == nil:
				t.Errorf("-%s %s, file %v: accepted", tc.flag, tc.bad, withFile)
			case !strings.Contains(err.Error(), where):
				t.Errorf("-%s %s, file %v: %v, want %q named", tc.flag, tc.bad, withFile, err, where)
			case strings.Count(err.Error(), "-"+tc.flag+" ") != 1:
				t.Errorf("-%s %s, file %v: %v, want the flag named once", tc.flag, tc.bad, withFile, err)
			case tc.flag == "push.token" && strings.Contains(err.Error(), tc.bad):
				t.Errorf("the error quotes the token: %v", err)
			}
		}
	}
}
