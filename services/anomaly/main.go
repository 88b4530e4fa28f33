// Command anomaly runs Headroom's anomaly service alone against a NATS server
// (see -help; every flag also reads a HEADROOM_* environment variable).
//
// "anomaly nab …" runs the offline evaluation instead, on the same code.
package main

import (
	"context"
	"os"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/detector"
	"github.com/headroomhq/headroom/internal/service"
)

func main() { service.Exit("anomaly", run) }

func run(ctx context.Context, args []string, getenv cli.Getenv) error {
	if len(args) > 0 && args[0] == "nab" {
		return nabCmd(ctx, args[1:], os.Stdout, os.Stderr)
	}
	cfg := detector.DefaultConfig()
	return service.Main(ctx, service.Spec{
		Name:            "anomaly",
		DefaultHTTPAddr: "127.0.0.1:8084",
		Build: func(_ context.Context, d service.Deps) (service.Runner, error) {
			return detector.New(cfg, d)
		},
	}, args, getenv)
}
