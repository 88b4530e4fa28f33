package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/internal/trace"
)

// replayCmd runs "collector replay --app shop --from -2h --to -1h --as
// shop-shadow --speed 100": it republishes the recorded ticks of --app with
// event times in [--from, --to) under --as, then exits (or, with --follow,
// goes on with new ticks until --to or Ctrl-C).
func replayCmd(ctx context.Context, args []string, getenv cli.Getenv) error {
	f := cli.New("collector replay", getenv)
	busCfg := bus.DefaultConfig()
	busCfg.RegisterConnectionFlags(f)
	var rc collector.ReplayConfig
	var from, to, level, configFile string
	f.String(&rc.App, "app", "shop", "recorded application to replay")
	f.String(&rc.As, "as", "", "shadow application name to republish under (required; refused when its newest recorded tick is not a replay of --app: an app of its own, or the shadow of another)")
	f.String(&from, "from", "", "first event time to replay: RFC 3339, or relative to now like -2h (empty: the first recorded)")
	f.String(&to, "to", "", "event time to stop before: RFC 3339, or relative to now like -30m (empty: the last recorded)")
	f.Bool(&rc.Follow, "follow", false, "after the recorded ticks, go on replaying new ones as they are recorded, until --to or Ctrl-C")
	f.Float(&rc.Speed, "speed", 0, "event seconds per real second (0: as fast as possible)")
	f.Duration(&rc.Disorder, "disorder", collector.DefaultReplayDisorder, "how far a recorded tick may lag, in event time, the newest of the app recorded before it (a late retry stored again) and still be replayed: the seek starts this much before --from and the reading goes this much past --to")
	f.String(&level, "log.level", "info", "log level: debug, info, warn, error")
	f.String(&configFile, "config", "", "the services' YAML configuration file: a replay under the name of an app it names mode: live is refused")
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var err error
	now := time.Now()
	if rc.From, err = optTime("from", from, now); err != nil {
		return err
	}
	if rc.To, err = optTime("to", to, now); err != nil {
		return err
	}
	if err := rc.Validate(); err != nil {
		return err
	}
	if err := notLive(configFile, rc.As); err != nil {
		return err
	}
	log, err := service.NewLogger(nil, "collector-replay", level)
	if err != nil {
		return fmt.Errorf("log.level: %w", err)
	}
	busCfg.Name = "collector-replay"
	b, err := bus.Connect(ctx, busCfg, log, nil)
	if err != nil {
		return err
	}
	closeWait := 10 * time.Second
	defer func() { _ = b.Close(closeWait) }()
	// Connected, and let subscribe to its inbox (a missing
	// -nats.inbox-prefix under deploy/nats.conf fails here, saying so,
	// not at the first request's timeout).
	if err := b.WaitConnected(ctx, 5*time.Second); err != nil {
		return err
	}
	start := time.Now()
	st, err := collector.Replay(ctx, b, rc, log)
	if err != nil {
		if bus.IsRefused(err) {
			closeWait = 0 // the refused publishes' acknowledgements will not come
		}
		return err
	}
	fmt.Fprintf(os.Stderr, "replayed %d ticks of %s as %s (%s … %s; read %d from the seek point, sequence %d) in %s\n", st.Published, rc.App, rc.As,
		st.First.Format(time.RFC3339), st.Last.Format(time.RFC3339), st.Read, st.StartSeq, time.Since(start).Round(time.Millisecond))
	return nil
}

// notLive refuses a replay under the name of an app the configuration file
// at path names mode: live. The executor would not act on its decisions
// (they are flagged replayed-input), but they would stand in the live app's
// own place, on the dashboard and in its decision history.
func notLive(path, as string) error {
	if path == "" {
		return nil
	}
	file, err := config.Load(path)
	if err != nil {
		return err
	}
	if a, ok := file.App(as); ok && a.Live() {
		return fmt.Errorf("--as %s: %s names that app mode: live; replay under a shadow name (give it mode: shadow there)", as, path)
	}
	return nil
}

// optTime parses a time flag: empty (zero), RFC 3339, or a duration
// relative to now ("-2h", "-90m"; "+10m" for the future).
func optTime(name, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if s[0] == '-' || s[0] == '+' {
		if d, err := time.ParseDuration(s); err == nil {
			return now.Add(d).Truncate(time.Second), nil
		}
	}
	t, err := trace.ParseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s: %w", name, err)
	}
	return t, nil
}
