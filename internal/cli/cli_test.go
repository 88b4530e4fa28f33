package cli_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/cli"
)

func TestFlagsEnvFallback(t *testing.T) {
	env := map[string]string{"HEADROOM_NATS_URL": "nats://env:4222", "HEADROOM_TICK": "30s", "HEADROOM_SPEED": "10"}
	f := cli.New("x", func(k string) string { return env[k] })
	var url, addr string
	var tick time.Duration
	var speed float64
	f.String(&url, "nats.url", "nats://127.0.0.1:4222", "")
	f.String(&addr, "http.addr", "127.0.0.1:8080", "")
	f.Duration(&tick, "tick", 15*time.Second, "")
	f.Float(&speed, "speed", 1, "")
	if err := f.Parse([]string{"-http.addr", ":0"}); err != nil {
		t.Fatal(err)
	}
	if url != "nats://env:4222" || addr != ":0" || tick != 30*time.Second || speed != 10 {
		t.Fatalf("got %q %q %v %v", url, addr, tick, speed)
	}
}

func TestFlagsBadEnv(t *testing.T) {
	f := cli.New("x", func(k string) string { return map[string]string{"HEADROOM_TICK": "soon"}[k] })
	var tick time.Duration
	f.Duration(&tick, "tick", time.Second, "")
	err := f.Parse(nil)
	if err == nil || !strings.Contains(err.Error(), "HEADROOM_TICK") {
		t.Fatalf("err %v", err)
	}
}

// TestParseRefusesLeftoverArguments: a word that is not a flag ends flag
// parsing, so Parse refuses it (naming it) rather than leave the flags
// after it unset; ParseArgs returns such words to a command that takes them.
func TestParseRefusesLeftoverArguments(t *testing.T) {
	noenv := func(string) string { return "" }
	for _, c := range []struct {
		args []string
		word string
	}{
		{[]string{"bogus-subcommand", "-http.addr", ":1"}, "bogus-subcommand"},
		{[]string{"-http.addr", ":1", "tail", "-h"}, "tail"},
	} {
		f := cli.New("collector", noenv)
		var addr string
		f.String(&addr, "http.addr", "127.0.0.1:8082", "")
		err := f.Parse(c.args)
		if err == nil || !strings.Contains(err.Error(), `unexpected argument "`+c.word+`"`) {
			t.Errorf("%v: %v, want %q refused by name", c.args, err, c.word)
		}
	}
	f := cli.New("tail", noenv)
	var since time.Duration
	f.Duration(&since, "since", 0, "")
	rest, err := f.ParseArgs([]string{"-since", "1h", "apm.decision.>"})
	if err != nil || len(rest) != 1 || rest[0] != "apm.decision.>" || since != time.Hour {
		t.Fatalf("ParseArgs: %v %v %v", rest, since, err)
	}
}

// TestStringEnvNotInUsage: a string flag's value from its variable (a
// token, a webhook header) is never printed in the usage, which the flag
// package writes on -h and on a mistyped flag (into the service's log):
// it says the variable is set instead. The value is still the
// variable's, and a flag given still wins.
func TestStringEnvNotInUsage(t *testing.T) {
	const secret = "s3cr3t-0123456789abcdef"
	env := map[string]string{"HEADROOM_EXECUTOR_WEBHOOK_HEADER": "Authorization: Bearer " + secret, "HEADROOM_PUSH_TOKEN": secret}
	for _, tc := range []struct {
		args  []string
		usage bool   // Parse fails, printing the usage
		token string // -push.token's value otherwise
	}{
		{[]string{"-executor.webhok.header", "x"}, true, ""},
		{[]string{"-h"}, true, ""},
		{nil, false, secret},
		{[]string{"-push.token", "flag-token"}, false, "flag-token"},
	} {
		f := cli.New("x", func(k string) string { return env[k] })
		var out bytes.Buffer
		f.FS.SetOutput(&out)
		var header, token, url string
		f.String(&header, "executor.webhook.header", "", "one extra header")
		f.String(&token, "push.token", "", "bearer token")
		f.String(&url, "nats.url", "nats://127.0.0.1:4222", "server")
		err := f.Parse(tc.args)
		if strings.Contains(out.String(), secret) {
			t.Errorf("%q: the usage prints the secret: %s", tc.args, out.String())
		}
		if tc.usage {
			if err == nil || !strings.Contains(out.String(), "(env HEADROOM_PUSH_TOKEN) (set from the environment)") || !strings.Contains(out.String(), `(default "nats://127.0.0.1:4222")`) {
				t.Errorf("%q: %v, usage %s", tc.args, err, out.String())
			}
			continue
		}
		if err != nil || header != "Authorization: Bearer "+secret || token != tc.token || url != "nats://127.0.0.1:4222" {
			t.Errorf("%q: %v: header %q, token %q, url %q", tc.args, err, header, token, url)
		}
	}
}
