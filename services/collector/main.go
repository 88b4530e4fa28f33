// Command collector runs Headroom's collector service alone against a NATS server
// (see -help; every flag also reads a HEADROOM_* environment variable).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "collector:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv cli.Getenv) error {
	cfg := collector.DefaultConfig()
	return service.Main(ctx, service.Spec{
		Name:            "collector",
		DefaultHTTPAddr: "127.0.0.1:8082",
		Flags:           cfg.RegisterFlags,
		Build: func(_ context.Context, d service.Deps) (service.Runner, error) {
			return collector.New(cfg, d)
		},
	}, args, getenv)
}
