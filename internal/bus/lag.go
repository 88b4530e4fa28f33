package bus

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/proto"
)

// lagEvery is how often a consumer's lag is read from the server.
const lagEvery = 5 * time.Second

// The consumer-lag gauges are shared by every bus of the process, so one
// registry shows every consumer the process runs.
var (
	lagPending = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "headroom_bus_consumer_pending_messages",
		Help: "Messages of a durable consumer's stream not yet delivered to it, plus those delivered and not yet acknowledged.",
	}, []string{"consumer"})
	lagEvent = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "headroom_bus_consumer_event_lag_seconds",
		Help: "Event time of the newest message on a durable consumer's filters minus that of the oldest it has not acknowledged; 0 when caught up.",
	}, []string{"consumer"})
	lagLast = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "headroom_bus_consumer_last_event_time_seconds",
		Help: "Event time (Unix seconds) of the last message delivered to a durable consumer.",
	}, []string{"consumer"})
)

// LagCollectors returns the consumer-lag gauges to register on a service's
// registry (a collector may be registered on several registries).
func LagCollectors() []prometheus.Collector {
	return []prometheus.Collector{lagPending, lagEvent, lagLast}
}

// RegisterLag registers the consumer-lag gauges on reg; already registered
// is fine.
func RegisterLag(reg prometheus.Registerer) {
	for _, c := range LagCollectors() {
		_ = reg.Register(c)
	}
}

// exportLag starts a goroutine that, every lagEvery until ctx ends, reads the
// durable's info and sets its lag gauges: pending messages (not delivered
// plus not acknowledged) and event-time lag, as the gateway's health answer
// reads it (consumerEventLag there): the newest event time on the subjects
// the consumer reads (its filters as the server stores them) minus that of
// the oldest message it has not acknowledged, the first on them after its
// ack floor; 0 with nothing pending. A failed read (a consumer being
// recreated, a user without the rights) skips that round.
func (b *Bus) exportLag(ctx context.Context, k proto.Kind, durable string) {
	go func() {
		t := time.NewTicker(lagEvery)
		defer t.Stop()
		for {
			b.readLag(ctx, k, durable)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (b *Bus) readLag(ctx context.Context, k proto.Kind, durable string) {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	// Looking the consumer up fetches its info: one request, not a
	// second through Info.
	cons, err := b.js.Consumer(rctx, proto.StreamName(b.cfg.Prefix, k), durable)
	if err != nil {
		return
	}
	cs := consumerState(cons.CachedInfo())
	pending := cs.Outstanding()
	lagPending.WithLabelValues(durable).Set(float64(pending))
	r, err := b.Reader(rctx, k)
	if err != nil {
		return
	}
	if seq := cs.Delivered; seq > 0 {
		if m, err := r.Get(rctx, seq); err == nil {
			lagLast.WithLabelValues(durable).Set(float64(m.EventTime()) / 1000)
		}
	}
	if pending == 0 {
		// Caught up, whatever the newest message's event time: nothing
		// it reads waits.
		lagEvent.WithLabelValues(durable).Set(0)
		return
	}
	newest, err := r.NewestOn(rctx, cs.Filters)
	if err != nil {
		return
	}
	lag, err := r.EventLag(rctx, cs, newest.EventTime())
	if err != nil {
		return
	}
	lagEvent.WithLabelValues(durable).Set(float64(lag) / 1000)
}
