// Command executor runs Headroom's executor service alone against a NATS server
// (see -help; every flag also reads a HEADROOM_* environment variable). It acts
// on decisions through -executor.driver: sim (default), command (e.g.
// -executor.command 'kubectl scale deployment/{tier} --replicas={replicas}',
// run without a shell), webhook (-executor.webhook.url, token from
// HEADROOM_EXECUTOR_WEBHOOK_TOKEN) or kubernetes (the scale subresource of
// each tier's workload, -executor.kubernetes.targets or the -config file's
// workload:); -executor.modes app=dry-run|shadow,… holds chosen apps back
// from acting.
package main

import (
	"context"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/service"
)

func main() { service.Exit("executor", run) }

func run(ctx context.Context, args []string, getenv cli.Getenv) error {
	cfg := executor.DefaultConfig()
	return service.Main(ctx, service.Spec{
		Name:            "executor",
		DefaultHTTPAddr: "127.0.0.1:8086",
		Flags:           cfg.RegisterFlags,
		// Read once flags are parsed: cfg is what they set.
		Leases: func(file *config.File) bool { return cfg.TakesLeases(file) },
		// A closure, not the method value: it reads cfg once the flags are parsed.
		Check: func(f *config.File, _ string) error { return cfg.ValidateWith(f) },
		Build: func(_ context.Context, d service.Deps) (service.Runner, error) {
			return executor.New(cfg, d)
		},
	}, args, getenv)
}
