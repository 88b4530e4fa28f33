package collector

import (
	"flag"
	"reflect"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/ingest"
)

// TestPushFlagsTableMatchesMerge keeps pushFlags and PushConfig in step:
// pushFlags says when the file replaces a flag (replaced, naming the
// file's key in the flag's errors) apart from PushConfig's merge, so the
// two could drift. For every row and several values of its file key (its
// zero value among them), replaced must say exactly whether PushConfig
// then ignores the flag: whether another value of the flag leaves the
// merged settings unchanged. The key must be the file's (it is parsed), it
// replaces no other row's flag, and every push flag registered has a row.
func TestPushFlagsTableMatchesMerge(t *testing.T) {
	// Another valid value of each flag than its default.
	alt := map[string]string{
		"push.token":            "flag-token-0123456789abcdef",
		"push.rate-limit":       "7",
		"push.rate-burst":       "7",
		"push.auth-fail-limit":  "3",
		"push.auth-fail-burst":  "4",
		"push.trusted-proxies":  "192.168.0.0/16",
		"push.forwarded-header": "Forwarded",
		"push.max-body":         "777",
		"push.max-skew":         "3m",
		"push.max-age":          "2h",
		"push.max-concurrent":   "9",
		"push.read-timeout":     "9s",
	}
	// Values of each file key, the zero one or absent-like first.
	samples := map[string][]string{
		"token":            {`""`, "file-token-0123456789abcdef", "sha256:" + strings.Repeat("ab", 32)},
		"rate_limit":       {"null", "0", "5"},
		"rate_burst":       {"0", "5"},
		"auth_fail_limit":  {"null", "0", "2"},
		"auth_fail_burst":  {"null", "1", "3"},
		"trusted_proxies":  {"null", "[]", "[10.0.12.0/24]"},
		"forwarded_header": {`""`, "X-Forwarded-For", "forwarded"},
		"max_body_bytes":   {"0", "1000"},
		"max_future_skew":  {"0s", "1m"},
		"max_age":          {"0s", "1h"},
		"max_concurrent":   {"0", "4"},
		"read_timeout":     {"0s", "5s"},
	}
	merged := func(args []string, f *config.File) ingest.Config {
		t.Helper()
		c := DefaultConfig()
		fl := cli.New("collector", nil)
		c.RegisterFlags(fl)
		if err := fl.Parse(args); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		c.File = f
		return c.PushConfig()
	}

	rows := DefaultConfig().pushFlags()
	fl := cli.New("collector", nil)
	c := DefaultConfig()
	c.RegisterFlags(fl)
	unlisted := map[string]bool{}
	fl.FS.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "push.") {
			unlisted[f.Name] = true
		}
	})
	for _, r := range rows {
		if !unlisted[r.name] {
			t.Errorf("row -%s: no such push flag, or two rows", r.name)
		}
		delete(unlisted, r.name)
	}
	for name := range unlisted {
		t.Errorf("push flag -%s has no row in pushFlags", name)
	}

	for _, r := range rows {
		a, ok := alt[r.name]
		if !ok {
			t.Errorf("-%s: no other value to try", r.name)
			continue
		}
		if reflect.DeepEqual(merged(nil, nil), merged([]string{"-" + r.name, a}, nil)) {
			t.Errorf("-%s %s changes nothing without a file", r.name, a)
		}
		replacedOnce := false
		for _, v := range samples[r.key] {
			src := "push:\n  " + r.key + ": " + v + "\napps:\n  shop: {source: sim}\n"
			f, err := config.Parse("x.yaml", []byte(src))
			if err != nil {
				t.Errorf("push.%s: %s: %v", r.key, v, err)
				continue
			}
			ignored := reflect.DeepEqual(merged(nil, f), merged([]string{"-" + r.name, a}, f))
			if got := r.replaced(f.Push); got != ignored {
				t.Errorf("push.%s: %s: pushFlags says it replaces -%s: %v; PushConfig ignores the flag: %v", r.key, v, r.name, got, ignored)
			}
			replacedOnce = replacedOnce || ignored
			for _, o := range rows {
				if o.name != r.name && o.replaced(f.Push) {
					t.Errorf("push.%s: %s: pushFlags says it replaces -%s too", r.key, v, o.name)
				}
			}
		}
		if !replacedOnce {
			t.Errorf("-%s: no value of push.%s replaces it (samples %q)", r.name, r.key, samples[r.key])
		}
	}
}
