package bus

import (
	"context"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
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
		Help: "Event time of the newest message of a consumer's stream (its filters) minus that of the last message delivered to it; 0 when caught up.",
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
// plus not acknowledged) and event-time lag (newest event time on its
// filters minus the event time of the last message delivered to it). A
// failed read (a consumer being recreated, a user without the rights) skips
// that round.
func (b *Bus) exportLag(ctx context.Context, stream, durable string, filters []string) {
	go func() {
		t := time.NewTicker(lagEvery)
		defer t.Stop()
		for {
			b.readLag(ctx, stream, durable, filters)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

func (b *Bus) readLag(ctx context.Context, stream, durable string, filters []string) {
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	cons, err := b.js.Consumer(rctx, stream, durable)
	if err != nil {
		return
	}
	ci, err := cons.Info(rctx)
	if err != nil {
		return
	}
	lagPending.WithLabelValues(durable).Set(float64(ci.NumPending) + float64(ci.NumAckPending))
	str, err := b.js.Stream(rctx, stream)
	if err != nil {
		return
	}
	delivered := ci.Delivered.Stream
	if delivered == 0 {
		return
	}
	last, ok := msgEventTime(rctx, str, delivered)
	if !ok {
		return
	}
	lagLast.WithLabelValues(durable).Set(float64(last) / 1000)
	newest := last
	if len(filters) == 0 {
		filters = []string{">"}
	}
	for _, f := range filters {
		var m *jetstream.RawStreamMsg
		if f == ">" {
			info, err := str.Info(rctx)
			if err != nil {
				return
			}
			m, err = str.GetMsg(rctx, info.State.LastSeq)
			if err != nil {
				return
			}
		} else if m, err = str.GetLastMsgForSubject(rctx, f); err != nil {
			continue
		}
		if ts, ok := headerEventTime(m.Header, m.Time); ok && ts > newest {
			newest = ts
		}
	}
	lagEvent.WithLabelValues(durable).Set(float64(newest-last) / 1000)
}

// msgEventTime reads the event time of the stream's message seq.
func msgEventTime(ctx context.Context, str jetstream.Stream, seq uint64) (int64, bool) {
	m, err := str.GetMsg(ctx, seq)
	if err != nil {
		return 0, false
	}
	return headerEventTime(m.Header, m.Time)
}

// headerEventTime is a message's event time (Unix ms) from its header, or
// its stored time without one.
func headerEventTime(h map[string][]string, stored time.Time) (int64, bool) {
	if v := h[HeaderEventTime]; len(v) > 0 {
		if ms, err := strconv.ParseInt(v[0], 10, 64); err == nil {
			return ms, true
		}
	}
	return stored.UnixMilli(), !stored.IsZero()
}
