package collector_test

import (
	"testing"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/collector"
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
