// Command collector runs Headroom's collector service alone against a NATS server
// (see -help; every flag also reads a HEADROOM_* environment variable). With
// -config FILE it runs the sources the file names (sim, scrape, trace) and
// serves the push API (POST /api/v1/metrics) on -http.addr.
//
// "collector replay …" republishes a recorded time range under a shadow app
// name instead (see replay.go).
package main

import (
	"context"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/service"
)

func main() { service.Exit("collector", run) }

func run(ctx context.Context, args []string, getenv cli.Getenv) error {
	if len(args) > 0 && args[0] == "replay" {
		return replayCmd(ctx, args[1:], getenv)
	}
	cfg := collector.DefaultConfig()
	var hosts string
	return service.Main(ctx, service.Spec{
		Name:            "collector",
		DefaultHTTPAddr: "127.0.0.1:8082",
		Flags: func(f *cli.Flags) {
			cfg.RegisterFlags(f)
			f.String(&hosts, "push.allowed-hosts", "", "Host header names (host or host:port, or *) the push API answers besides localhost, 127.0.0.1 and [::1] on its port, comma-separated (empty: the -http.addr host, when it names one)")
		},
		// A closure, not the method value: it reads cfg once the flags are parsed.
		Check: func(f *config.File, httpAddr string) error { return cfg.CheckServing(f, httpAddr) },
		Build: func(_ context.Context, d service.Deps) (service.Runner, error) {
			cfg.Push.AllowedHosts = collector.StandalonePushHosts(hosts, d.HTTPAddr)
			return collector.New(cfg, d)
		},
	}, args, getenv)
}
