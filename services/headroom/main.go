// Command headroom runs the whole of Headroom in one process: an embedded
// NATS JetStream server, every service, the simulated three-tier shop with
// seven days of backfilled history, and the dashboard on http://127.0.0.1:8080.
// Every flag also reads a HEADROOM_* environment variable; see -help.
//
// "headroom provision -nats.url … -nats.user provision -nats.inbox-prefix
// _INBOX_provision" creates or updates the streams, the replica and lease
// buckets and the services' durables on a NATS server of your own, as the
// provisioning user of deploy/nats.conf (whose inbox prefix it needs), before
// the services start.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/headroomhq/headroom/internal/allinone"
	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/service"
)

func main() { service.Exit("headroom", run) }

func run(ctx context.Context, args []string, getenv cli.Getenv) error {
	if len(args) > 0 && args[0] == "provision" {
		return service.Provision(ctx, args[1:], getenv, os.Stdout)
	}
	cfg := allinone.DefaultConfig()
	f := cli.New("headroom", getenv)
	cfg.RegisterFlags(f)
	var level string
	f.String(&level, "log.level", "info", "log level: debug, info, warn, error")
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	log, err := service.NewLogger(nil, "headroom", level)
	if err != nil {
		return fmt.Errorf("log.level: %w", err)
	}
	return allinone.Run(ctx, cfg, log, func(s *allinone.System) {
		log.Info().Str("dashboard", "http://"+s.HTTPAddr+"/").Str("ops_addr", s.OpsAddr).Str("nats", s.NATSURL).Msg("headroom running")
		fmt.Fprint(os.Stderr, banner(s.HTTPAddr, s.NATSURL, cfg.Gateway.Token != ""))
	})
}

// banner is what the all-in-one prints once it runs: where the dashboard
// and NATS are. With a gateway token the dashboard's address says to give
// it in the page's fragment (#token=, which the page keeps for the tab and
// takes out of the address bar): opened plainly, the page would load and
// get 401 on every feed. The token itself is never printed.
func banner(httpAddr, natsURL string, token bool) string {
	dashboard := "http://" + httpAddr + "/"
	if token {
		dashboard += "#token=<your -gateway.token> (open it once so)"
	}
	return fmt.Sprintf("\n  Headroom dashboard: %s\n  NATS:               %s (try: go run ./services/gateway tail 'apm.>' -nats.url %s)\n\n", dashboard, natsURL, natsURL)
}
