package gateway

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// streamFillTimeout bounds the stream info reads of one scrape.
const streamFillTimeout = 2 * time.Second

// streamFill reports, at each scrape, how full every stream is: the bytes
// it holds over its cap (-stream.max-bytes). A stream at its cap drops its
// oldest messages (DiscardOld) before -stream.max-age, silently, so a
// rebuild, a returning tier's replay or a history may reach less far back
// than it needs; this is the gauge to alert on. The gateway reads each
// stream's info for /api/v1/health already; a stream without a cap, or
// whose info cannot be read in streamFillTimeout, has no sample.
type streamFill struct {
	bus  *bus.Bus
	desc *prometheus.Desc
}

func newStreamFill(b *bus.Bus) *streamFill {
	return &streamFill{bus: b, desc: prometheus.NewDesc("headroom_stream_fill_ratio",
		"Bytes a stream holds over its cap (-stream.max-bytes), read by the gateway at each scrape; at 1 the stream drops its oldest messages before -stream.max-age.",
		[]string{"stream"}, nil)}
}

// Describe implements prometheus.Collector.
func (s *streamFill) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

// Collect implements prometheus.Collector.
func (s *streamFill) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), streamFillTimeout)
	defer cancel()
	for _, k := range proto.Kinds {
		st, err := s.state(ctx, k)
		if err != nil || st.MaxBytes <= 0 {
			continue
		}
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, float64(st.Bytes)/float64(st.MaxBytes), st.Name)
	}
}

func (s *streamFill) state(ctx context.Context, k proto.Kind) (bus.StreamState, error) {
	r, err := s.bus.Reader(ctx, k)
	if err != nil {
		return bus.StreamState{}, fmt.Errorf("stream fill: %w", err)
	}
	return r.State(ctx)
}
