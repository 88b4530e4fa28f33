package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/proto"
)

// serviceDurable is one input of a service's group: the base name of its
// partition durables (<name>-p<i>) and the kind it reads.
type serviceDurable struct {
	name string
	kind proto.Kind
}

// serviceDurables are the group inputs of Headroom's stateful services, as
// they name them: the forecaster's and the anomaly service's stage, the
// decider's three inputs and the executor's decisions.
var serviceDurables = []serviceDurable{
	{"forecaster", proto.KindMetrics},
	{"anomaly", proto.KindMetrics},
	{"decider-metrics", proto.KindMetrics},
	{"decider-forecast", proto.KindForecast},
	{"decider-anomaly", proto.KindAnomaly},
	{"executor", proto.KindDecision},
}

// DurableNames lists the durable consumers of Headroom's services with n
// partitions: each group's durable per partition (<name>-p<i>) and the
// bare names a single consumer of the same service would use. Only
// provisioning creates or changes them; no other identity may touch them
// (deploy/nats.conf, the all-in-one's observer user).
func DurableNames(n int) []string {
	var names []string
	for _, d := range serviceDurables {
		names = append(names, d.name)
	}
	for _, d := range serviceDurables {
		for p := range n {
			names = append(names, d.name+"-p"+strconv.Itoa(p))
		}
	}
	return names
}

// partitionSpec is the consumer spec of base's durable for partition p of
// kind k: what provisioning creates and what a group member reads.
func (b *Bus) partitionSpec(base ConsumerSpec, p int) ConsumerSpec {
	ps := base
	ps.Group, ps.Replay, ps.Started = nil, false, nil
	ps.Name = base.Name + "-p" + strconv.Itoa(p)
	ps.Filters = []string{proto.PartitionFilter(b.cfg.Prefix, base.Kind, p)}
	ps.pinned = true
	return ps
}

// EnsureConsumers creates every service's partition durable that does not
// exist yet, for the partitions the streams were provisioned with, and
// returns how many it created. An existing durable is left as it is (its
// position is its group's), but for a MaxDeliver other than
// serverMaxDeliver (one provisioned before the server stopped giving
// messages up itself), which is updated in place. Only the provisioning identity may call it:
// under deploy/nats.conf services read, acknowledge and unpin their
// durables but cannot create or change them.
func (b *Bus) EnsureConsumers(ctx context.Context) (created int, err error) {
	for _, d := range serviceDurables {
		n, err := b.Partitions(ctx, d.kind)
		if err != nil {
			return created, err
		}
		stream := proto.StreamName(b.cfg.Prefix, d.kind)
		for p := range n {
			spec := ConsumerSpec{Name: d.name, Kind: d.kind}
			spec.defaults()
			ps := b.partitionSpec(spec, p)
			c, made, err := b.durable(ctx, stream, ps)
			if err != nil {
				return created, fmt.Errorf("durable %s/%s: %w", stream, ps.Name, err)
			}
			if made {
				created++
				continue
			}
			if err := b.unlimitDeliveries(ctx, stream, c); err != nil {
				return created, fmt.Errorf("durable %s/%s: %w", stream, ps.Name, err)
			}
		}
	}
	return created, nil
}

// durable returns spec's durable on stream, creating it when it does not
// exist (made reports that; a failed create wraps errNotCreated). An
// existing one is used as it is: its position is its group's. A create that
// loses the race to another client's finds the winner's.
func (b *Bus) durable(ctx context.Context, stream string, spec ConsumerSpec) (c jetstream.Consumer, made bool, err error) {
	c, err = b.js.Consumer(ctx, stream, spec.Name)
	if err == nil || !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return c, false, err
	}
	// A refused create is never answered: its refusal ends the wait
	// (createDurable); bound it well below the API's default all the same,
	// for a refusal the error handler does not tell.
	cctx, cancel := context.WithTimeout(ctx, createTimeout)
	defer cancel()
	c, err = b.createDurable(cctx, stream, consumerConfig(spec, 0), false)
	switch {
	case errors.Is(err, jetstream.ErrConsumerExists):
		c, err = b.js.Consumer(ctx, stream, spec.Name)
		return c, false, err
	case err != nil:
		return nil, false, fmt.Errorf("%w: %w", errNotCreated, err)
	}
	return c, true, nil
}

// unlimitDeliveries sets c's MaxDeliver to serverMaxDeliver when it is
// another, keeping the rest of its configuration (and so its position):
// the server must not give up a message whose dead letter could not be
// stored (see serverMaxDeliver).
func (b *Bus) unlimitDeliveries(ctx context.Context, stream string, c jetstream.Consumer) error {
	cfg := c.CachedInfo().Config
	if cfg.MaxDeliver == serverMaxDeliver {
		return nil
	}
	was := cfg.MaxDeliver
	cfg.MaxDeliver = serverMaxDeliver
	uctx, cancel := context.WithTimeout(ctx, createTimeout)
	defer cancel()
	if _, err := b.js.UpdateConsumer(uctx, stream, cfg); err != nil {
		return fmt.Errorf("set MaxDeliver unlimited (was %d): %w", was, err)
	}
	b.log.Info().Str("stream", stream).Str("durable", cfg.Durable).Int("was", was).
		Msg("durable's MaxDeliver made unlimited: the bus gives messages up itself, once their dead letter is stored")
	return nil
}

// errNotCreated marks a durable found missing that could not be created.
var errNotCreated = errors.New("not created")

// createTimeout bounds an attempt to create a missing durable.
const createTimeout = 10 * time.Second

// Provision creates or updates every stream and the replica bucket
// (EnsureStreams), then creates the services' missing durables
// (EnsureConsumers): everything the services need and may not make
// themselves. It is idempotent.
func (b *Bus) Provision(ctx context.Context) error {
	if err := b.EnsureStreams(ctx); err != nil {
		return err
	}
	if _, err := b.EnsureConsumers(ctx); err != nil {
		return err
	}
	return nil
}
