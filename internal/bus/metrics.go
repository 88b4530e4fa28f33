package bus

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/proto"
)

type metrics struct {
	// published counts the publishes the stream stored (acknowledged),
	// publishErrs the ones that failed: a synchronous one as it returns,
	// an async one as its outcome comes (asyncErrors.stored, failed), a
	// refused one as its refusal comes (asyncErrors.handle).
	published   *prometheus.CounterVec
	publishErrs *prometheus.CounterVec
	// publishDropped counts the messages PublishAll dropped, refused
	// for themselves.
	publishDropped *prometheus.CounterVec
	handled        *prometheus.CounterVec
	deadLetters    *prometheus.CounterVec
	// deadLettersUnstored counts the dead letters that could not be
	// stored: their message is nakked and tried again (deadLetter).
	deadLettersUnstored *prometheus.CounterVec
	handleTime          *prometheus.HistogramVec
	// deliveryGaps counts the consumers' deliveries lost in flight (a
	// gap in the consumer sequence) and gapFilled the messages read from
	// the stream in their place (gap.go).
	deliveryGaps *prometheus.CounterVec
	gapFilled    *prometheus.CounterVec
	// forgedPins counts deliveries whose publisher set Nats-Pin-Id, a
	// header only the server may set (see deliveredPin).
	forgedPins *prometheus.CounterVec
	// inputPaused is 1 while a service's Gate is closed, by service and
	// the reason it was closed for.
	inputPaused *pausedGauge
}

// pausedGauge is headroom_bus_input_paused with the count of the gates
// closed for each of its series. Registered once per registry, like the
// other metrics, it is shared, counts included, by the buses on one
// registry (the all-in-one's parts, whose gates of one service share the
// series), and by none on another.
type pausedGauge struct {
	*prometheus.GaugeVec
	mu sync.Mutex
	n  map[[2]string]int // gates closed, by service and reason
}

// closed adds delta (+1 as a gate closes, -1 as it opens) to the gates
// closed for reason of service, and sets the series to 1 while any is, 0
// once none is: set by each gate, the first to open cleared the series
// while another gate of the service was still closed.
func (p *pausedGauge) closed(service, reason string, delta int) {
	k := [2]string{service, reason}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n[k] += delta
	if p.n[k] > 0 {
		p.WithLabelValues(service, reason).Set(1)
		return
	}
	delete(p.n, k)
	p.WithLabelValues(service, reason).Set(0)
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_bus_published_total", Help: "Messages published and stored (acknowledged by the stream; a duplicate id too), by stream kind.",
		}, []string{"kind"}),
		publishErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_bus_publish_errors_total", Help: "Publishes that failed (one refused for the user's permissions as its refusal comes), by stream kind; a retry that fails again counts again.",
		}, []string{"kind"}),
		publishDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_bus_publish_dropped_total",
			Help: "Messages a source's publish dropped unstored, refused for themselves (not encodable, over the stream's max message size or the server's max_payload; the drop's error line says which in refused), by stream kind.",
		}, []string{"kind"}),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_bus_handled_total", Help: "Consumed messages by consumer and outcome (ack, nak, dlq).",
		}, []string{"consumer", "outcome"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_bus_dead_letters_total", Help: "Messages sent to the dead-letter queue, by consumer.",
		}, []string{"consumer"}),
		deadLettersUnstored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_bus_dead_letters_unstored_total",
			Help: "Dead letters that could not be stored (DLQ stream unavailable, subject refused, timeout), by consumer: each message is nakked and dead-lettered again at its next delivery, so none is lost.",
		}, []string{"consumer"}),
		handleTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "headroom_bus_handle_seconds", Help: "Time spent in a handler per message.",
			Buckets: prometheus.ExponentialBuckets(1e-6, 4, 12),
		}, []string{"consumer"}),
		deliveryGaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_bus_delivery_gaps_total", Help: "Gaps in a consumer's deliveries (deliveries lost in flight, as when a node dies), by stream.",
		}, []string{"stream"}),
		gapFilled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_bus_gap_filled_total", Help: "Messages read from the stream in place of deliveries lost in flight, by stream.",
		}, []string{"stream"}),
		forgedPins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_bus_forged_pin_headers_total",
			Help: "Deliveries whose publisher set a Nats-Pin-Id header, which only the server may set (each unpins a pinned durable), by consumer.",
		}, []string{"consumer"}),
		inputPaused: &pausedGauge{GaugeVec: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "headroom_bus_input_paused",
			Help: "1 while a service takes no input because it cannot store what it made (its consumers keep what they fetched, unacknowledged, and fetch nothing more), by service and reason; 0 otherwise.",
		}, []string{"service", "reason"}), n: map[[2]string]int{}},
	}
	for _, c := range []prometheus.Collector{m.published, m.publishErrs, m.publishDropped, m.handled, m.deadLetters, m.deadLettersUnstored, m.handleTime, m.deliveryGaps, m.gapFilled, m.forgedPins, m.inputPaused} {
		if err := reg.Register(c); err != nil {
			// Several buses in one process share a registry: reuse the
			// collector already registered.
			if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
				switch c {
				case m.published:
					m.published = are.ExistingCollector.(*prometheus.CounterVec)
				case m.publishErrs:
					m.publishErrs = are.ExistingCollector.(*prometheus.CounterVec)
				case m.publishDropped:
					m.publishDropped = are.ExistingCollector.(*prometheus.CounterVec)
				case m.handled:
					m.handled = are.ExistingCollector.(*prometheus.CounterVec)
				case m.deadLetters:
					m.deadLetters = are.ExistingCollector.(*prometheus.CounterVec)
				case m.deadLettersUnstored:
					m.deadLettersUnstored = are.ExistingCollector.(*prometheus.CounterVec)
				case m.handleTime:
					m.handleTime = are.ExistingCollector.(*prometheus.HistogramVec)
				case m.deliveryGaps:
					m.deliveryGaps = are.ExistingCollector.(*prometheus.CounterVec)
				case m.gapFilled:
					m.gapFilled = are.ExistingCollector.(*prometheus.CounterVec)
				case m.forgedPins:
					m.forgedPins = are.ExistingCollector.(*prometheus.CounterVec)
				case m.inputPaused:
					m.inputPaused = are.ExistingCollector.(*pausedGauge)
				}
			}
		}
	}
	// Every kind's series exists from the start, at 0, so a rule such as
	// increase(headroom_bus_publish_errors_total[10m]) > 0 sees the first
	// failure (a series that appears at 1 increases by nothing).
	for _, k := range proto.Kinds {
		m.publishErrs.WithLabelValues(string(k))
		m.publishDropped.WithLabelValues(string(k))
	}
	return m
}
