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
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/internal/trace"
)

// replayCmd runs "collector replay --app shop --from … --to … --as
// shop-shadow --speed 100": it republishes the recorded ticks of --app with
// event times in [--from, --to) under --as, then exits.
func replayCmd(ctx context.Context, args []string, getenv cli.Getenv) error {
	f := cli.New("collector replay", getenv)
	busCfg := bus.DefaultConfig()
	busCfg.RegisterFlags(f)
	var rc collector.ReplayConfig
	var from, to, level string
	f.String(&rc.App, "app", "shop", "recorded application to replay")
	f.String(&rc.As, "as", "", "shadow application name to republish under (required)")
	f.String(&from, "from", "", "first event time to replay, RFC 3339 (empty: the first recorded)")
	f.String(&to, "to", "", "event time to stop before, RFC 3339 (empty: the last recorded)")
	f.Float(&rc.Speed, "speed", 0, "event seconds per real second (0: as fast as possible)")
	f.String(&level, "log.level", "info", "log level: debug, info, warn, error")
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var err error
	if rc.From, err = optTime("from", from); err != nil {
		return err
	}
	if rc.To, err = optTime("to", to); err != nil {
		return err
	}
	if err := rc.Validate(); err != nil {
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
	defer func() { _ = b.Close(10 * time.Second) }()
	start := time.Now()
	st, err := collector.Replay(ctx, b, rc, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "replayed %d of %d recorded ticks of %s as %s (%s … %s) in %s\n", st.Published, st.Read, rc.App, rc.As,
		st.First.Format(time.RFC3339), st.Last.Format(time.RFC3339), time.Since(start).Round(time.Millisecond))
	return nil
}

func optTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := trace.ParseTime(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s: %w", name, err)
	}
	return t, nil
}
