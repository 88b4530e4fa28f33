// Command gateway serves Headroom's live dashboard and its WebSocket feed
// from a NATS JetStream server: go run ./services/gateway -nats.url nats://…
// then open http://127.0.0.1:8081.
//
// "gateway tail FILTER… [--since 1h] [--no-follow]" prints the bus's
// messages matching the subject filters as JSON lines, payloads decoded.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/service"
)

func main() { service.Exit("gateway", run) }

func run(ctx context.Context, args []string, getenv cli.Getenv) error {
	if len(args) > 0 && args[0] == "tail" {
		return tailCmd(ctx, args[1:], getenv)
	}
	cfg := gateway.DefaultConfig()
	return service.Main(ctx, service.Spec{
		Name:            "gateway",
		DefaultHTTPAddr: "127.0.0.1:8081",
		Flags:           cfg.RegisterFlags,
		// Validate merges the origin and host flags into cfg; on a copy,
		// so that New merges them as it would without the check.
		Check: func(_ *config.File, httpAddr string) error {
			c := cfg
			if err := c.Validate(); err != nil {
				return err
			}
			return c.RequireTokenOn(httpAddr)
		},
		Build: func(_ context.Context, d service.Deps) (service.Runner, error) {
			return gateway.New(cfg, d)
		},
	}, args, getenv)
}

// tailCmd runs "gateway tail 'apm.decision.>' --since 1h": filters first
// or after the flags, history since the given time, then new messages until
// Ctrl-C (unless --no-follow).
func tailCmd(ctx context.Context, args []string, getenv cli.Getenv) error {
	var filters []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		filters, args = append(filters, args[0]), args[1:]
	}
	f := cli.New("gateway tail", getenv)
	busCfg := bus.DefaultConfig()
	busCfg.RegisterConnectionFlags(f) // a tail only reads: no -nats.provision
	var since time.Duration
	var noFollow bool
	f.Duration(&since, "since", 0, "also print the messages of this much event time before now (e.g. 1h; 0: new ones only)")
	f.Bool(&noFollow, "no-follow", false, "stop after the recorded messages instead of waiting for new ones")
	rest, err := f.ParseArgs(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	filters = append(filters, rest...)
	if len(filters) == 0 {
		return errors.New("tail: give a subject filter, e.g. gateway tail 'apm.decision.>' --since 1h")
	}
	if since < 0 {
		return fmt.Errorf("--since %v: want a positive duration", since)
	}
	log, err := service.NewLogger(nil, "gateway-tail", "warn")
	if err != nil {
		return err
	}
	busCfg.Name = "gateway-tail"
	b, err := bus.Connect(ctx, busCfg, log, nil)
	if err != nil {
		return err
	}
	defer func() { _ = b.Close(5 * time.Second) }()
	if err := b.WaitConnected(ctx, 5*time.Second); err != nil {
		return err
	}
	tc := gateway.TailConfig{Filters: filters, Follow: !noFollow, Skipped: func(stream string, err error) {
		fmt.Fprintf(os.Stderr, "gateway tail: %s left out: this NATS user may not read it (%v)\n", stream, err)
	}}
	if since > 0 {
		tc.Since = time.Now().Add(-since)
	}
	return gateway.Tail(ctx, b, tc, os.Stdout)
}
