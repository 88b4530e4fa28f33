// Command gateway serves Headroom's live dashboard and its WebSocket feed
// from a NATS JetStream server: go run ./services/gateway -nats.url nats://…
// then open http://127.0.0.1:8081.
package main

import (
	"context"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/service"
)

func main() { service.Exit("gateway", run) }

func run(ctx context.Context, args []string, getenv cli.Getenv) error {
	cfg := gateway.DefaultConfig()
	return service.Main(ctx, service.Spec{
		Name:            "gateway",
		DefaultHTTPAddr: "127.0.0.1:8081",
		Flags:           cfg.RegisterFlags,
		Build: func(_ context.Context, d service.Deps) (service.Runner, error) {
			return gateway.New(cfg, d)
		},
	}, args, getenv)
}
