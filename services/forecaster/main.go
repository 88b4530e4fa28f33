// Command forecaster runs Headroom's forecaster service alone against a NATS server
// (see -help; every flag also reads a HEADROOM_* environment variable).
//
// "forecaster backtest …" runs the offline evaluation instead, on the same code.
package main

import (
	"context"
	"os"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/internal/service"
)

func main() { service.Exit("forecaster", run) }

func run(ctx context.Context, args []string, getenv cli.Getenv) error {
	if len(args) > 0 && args[0] == "backtest" {
		return backtestCmd(ctx, args[1:], os.Stdout, os.Stderr)
	}
	cfg := forecaster.DefaultConfig()
	return service.Main(ctx, service.Spec{
		Name:            "forecaster",
		DefaultHTTPAddr: "127.0.0.1:8083",
		Flags:           cfg.RegisterFlags,
		Check:           func(*config.File, string) error { return cfg.Validate() },
		Build: func(_ context.Context, d service.Deps) (service.Runner, error) {
			return forecaster.New(cfg, d)
		},
	}, args, getenv)
}
