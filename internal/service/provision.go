package service

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/proto"
)

// Provision is the one-shot provisioning step: it connects with the NATS
// flags (as the provisioning user of deploy/nats.conf), creates or updates
// every stream and the replica bucket to the stream flags' limits, creates
// the services' partition durables that are missing, reports what exists to
// out and returns. Services never do this themselves unless given
// -nats.provision.
func Provision(ctx context.Context, args []string, getenv cli.Getenv, out io.Writer) error {
	f := cli.New("provision", getenv)
	cfg := bus.DefaultConfig()
	cfg.RegisterConnectionFlags(f)
	var wait time.Duration
	f.Duration(&wait, "wait", 30*time.Second, "how long to wait for the NATS server")
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	cfg.Name = "provision"
	log, err := NewLogger(nil, "provision", "info")
	if err != nil {
		return err
	}
	b, err := bus.Connect(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	defer func() { _ = b.Close(5 * time.Second) }()
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if err := b.WaitConnected(wctx, 5*time.Second); err != nil {
		return err
	}
	if err := b.EnsureStreams(ctx); err != nil {
		return fmt.Errorf("provision (does %q have the provisioning rights?): %w", cfg.User, err)
	}
	created, err := b.EnsureConsumers(ctx)
	if err != nil {
		return fmt.Errorf("provision the services' durables (does %q have the provisioning rights?): %w", cfg.User, err)
	}
	for _, k := range proto.Kinds {
		c := b.StreamConfig(k)
		per := ""
		if c.MaxMsgsPerSubject > 0 {
			per = fmt.Sprintf(", %d messages per series", c.MaxMsgsPerSubject)
		}
		fmt.Fprintf(out, "stream %-10s %-14s max-age %s, replicas %d%s\n", c.Name, c.Subjects[0], c.MaxAge, c.Replicas, per)
	}
	fmt.Fprintf(out, "bucket %s\n", proto.ReplicaBucket(cfg.Prefix))
	fmt.Fprintf(out, "bucket %s (executor leases)\n", proto.LeaseBucket(cfg.Prefix))
	fmt.Fprintf(out, "durables: %d created, the others kept as they are\n", created)
	if n := cfg.Streams.Partitions; n != proto.DefaultPartitions {
		// deploy/nats.conf names the durables of the default partitions
		// only: the services could not read the others, and other users
		// could touch them.
		fmt.Fprintf(out, "partitions: %d; deploy/nats.conf is written for %d: regenerate it with PARTITIONS=%d python3 deploy/natsconf.py\n",
			n, proto.DefaultPartitions, n)
	}
	return nil
}
