package cli_test

import (
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
