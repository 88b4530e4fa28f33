// Command gateway serves Headroom's live dashboard and its WebSocket feed
// from a NATS JetStream server: go run ./services/gateway -nats.url nats://…
// then open http://127.0.0.1:8081.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := gateway.DefaultConfig()
	spec := service.Spec{
		Name:            "gateway",
		DefaultHTTPAddr: "127.0.0.1:8081",
		Flags:           cfg.RegisterFlags,
		Build: func(_ context.Context, d service.Deps) (service.Runner, error) {
			return gateway.New(cfg, d)
		},
	}
	if err := service.Main(ctx, spec, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}
