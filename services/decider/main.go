// Command decider runs Headroom's decider service alone against a NATS server
// (see -help; every flag also reads a HEADROOM_* environment variable).
//
// "decider simulate …" runs the offline evaluation instead, on the same code.
package main

import (
	"context"
	"os"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/decider"
	"github.com/headroomhq/headroom/internal/service"
)

func main() { service.Exit("decider", run) }

func run(ctx context.Context, args []string, getenv cli.Getenv) error {
	if len(args) > 0 && args[0] == "simulate" {
		return simulateCmd(ctx, args[1:], os.Stdout, os.Stderr)
	}
	cfg := decider.DefaultConfig()
	return service.Main(ctx, service.Spec{
		Name:            "decider",
		DefaultHTTPAddr: "127.0.0.1:8085",
		Flags:           cfg.RegisterFlags,
		// A closure, not the method value: it reads cfg once the flags are parsed.
		Check: func(f *config.File, _ string) error { return cfg.ValidateWith(f) },
		Build: func(_ context.Context, d service.Deps) (service.Runner, error) {
			return decider.New(cfg, d)
		},
	}, args, getenv)
}
