package bus_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// flood publishes n messages of 300 bytes on subject, as a push client
// pushing as fast as it may would (the stream does not read them), and
// waits for every acknowledgement.
func flood(t *testing.T, b *bus.Bus, subject string, n int) {
	t.Helper()
	js := natstest.JetStream(t, b)
	payload := bytes.Repeat([]byte("x"), 300)
	for i := range n {
		if _, err := js.PublishAsync(subject, payload); err != nil {
			t.Fatalf("flood message %d: %v", i, err)
		}
		if (i+1)%1000 == 0 || i == n-1 {
			// Under the client's bound on acknowledgements outstanding.
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(60 * time.Second):
				t.Fatalf("flood's first %d not acknowledged in 60s", i+1)
			}
		}
	}
}

// seriesMsgs counts what kind's stream holds of one app's tiers.
func seriesMsgs(t *testing.T, b *bus.Bus, k proto.Kind, app string) uint64 {
	t.Helper()
	s, err := b.StreamOf(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(proto.AppFilter("apm", k, app)))
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, c := range info.State.Subjects {
		n += c
	}
	return n
}

// TestMetricsFloodDiscardsItsOwnHistory: METRICS is one stream for every
// app, discarding its oldest messages at its byte cap, and ANOMALIES stores
// a score for each tick. One series pushed far faster than any scrape or
// simulation ticks must lose its own oldest at -stream.max-msgs-per-series,
// not every other app's history.
func TestMetricsFloodDiscardsItsOwnHistory(t *testing.T) {
	const perSeries = bus.MinMaxMsgsPerSeries
	for _, k := range []proto.Kind{proto.KindMetrics, proto.KindAnomaly} {
		t.Run(string(k), func(t *testing.T) {
			b := mustBus(t, natstest.RunJetStream(t), func(c *bus.Config) {
				c.Streams.MaxBytes = 2 << 20 // a flood of 10,000 messages of 300 B overflows it
				c.Streams.MaxMsgsPerSeries = perSeries
			})
			const quiet = 10
			quietSubject := proto.Subject("apm", k, "quiet", "web")
			flood(t, b, quietSubject, quiet)
			flood(t, b, proto.Subject("apm", k, "flood", "web"), 10_000)
			if got := seriesMsgs(t, b, k, "quiet"); got != quiet {
				t.Errorf("the quiet app keeps %d of its %d messages after another app's flood, want all", got, quiet)
			}
			if got := seriesMsgs(t, b, k, "flood"); got != perSeries {
				t.Errorf("the flooded series keeps %d messages, want its cap %d", got, perSeries)
			}
		})
	}
}

// TestProvisioningCapsAnOlderMetricsStream: a METRICS stream provisioned
// by a release without the per-series cap gets it at the next
// provisioning (ANOMALIES too, and no other stream), and the server trims
// a series already over it: a single server, and every replica of an R3
// stream on a three-node cluster (deploy/cluster.conf's), where the update
// goes through the meta leader and each replica trims its own store.
func TestProvisioningCapsAnOlderMetricsStream(t *testing.T) {
	cases := []struct {
		name     string
		replicas int
		start    func(*testing.T) (string, []*server.Server)
	}{
		{"single server", 1, func(t *testing.T) (string, []*server.Server) { return natstest.RunJetStream(t), nil }},
		{"three-node cluster", 3, func(t *testing.T) (string, []*server.Server) {
			c := natstest.StartCluster(t, 3)
			return c.URL(), c.Servers
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url, servers := c.start(t)
			testProvisioningCaps(t, url, c.replicas, servers)
		})
	}
}

func testProvisioningCaps(t *testing.T, url string, replicas int, servers []*server.Server) {
	old := mustBus(t, url, func(c *bus.Config) { c.Streams.MaxMsgsPerSeries, c.Streams.Replicas = -1, replicas })
	flood(t, old, proto.MetricsSubject("apm", "flood", "web"), 3_000)
	if got := seriesMsgs(t, old, proto.KindMetrics, "flood"); got != 3_000 {
		t.Fatalf("uncapped stream holds %d, want 3000", got)
	}
	const perSeries = bus.MinMaxMsgsPerSeries
	b := mustBus(t, url, func(c *bus.Config) { c.Streams.MaxMsgsPerSeries, c.Streams.Replicas = perSeries, replicas })
	s, err := b.StreamOf(context.Background(), proto.KindMetrics)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Config.MaxMsgsPerSubject; got != perSeries {
		t.Errorf("reprovisioned METRICS caps a series at %d, want %d", got, perSeries)
	}
	if got := seriesMsgs(t, b, proto.KindMetrics, "flood"); got != perSeries {
		t.Errorf("reprovisioned METRICS keeps %d of the series, want %d", got, perSeries)
	}
	// Every replica's own store, not only the leader's answer: a follower
	// that kept the series whole would hand it back after a leader change.
	// A follower may still be catching up with the flood (a quorum of two
	// acknowledged it; under load the third can lag by seconds), so each
	// replica is judged once it holds the leader's last message: until
	// then its count is a count in progress, not what it kept.
	last := info.State.LastSeq
	name := proto.StreamName("apm", proto.KindMetrics)
	for _, srv := range servers {
		natstest.Eventually(t, 2*time.Minute, func() error {
			jsz, err := srv.Jsz(&server.JSzOptions{Accounts: true, Streams: true, Config: true})
			if err != nil {
				return err
			}
			for _, a := range jsz.AccountDetails {
				for _, sd := range a.Streams {
					if sd.Name != name {
						continue
					}
					st := sd.State
					if st.LastSeq < last {
						return fmt.Errorf("%s's replica of %s is catching up: %d messages, up to sequence %d of %d",
							srv.Name(), name, st.Msgs, st.LastSeq, last)
					}
					if sd.Config == nil || sd.Config.MaxMsgsPer != perSeries || st.Msgs != perSeries {
						return fmt.Errorf("%s's replica of %s: %d messages (sequences %d-%d, %d deleted) under a per-subject cap of %v, want %d under %d",
							srv.Name(), name, st.Msgs, st.FirstSeq, st.LastSeq, st.NumDeleted, maxPer(sd.Config), perSeries, perSeries)
					}
					return nil
				}
			}
			return fmt.Errorf("%s holds no replica of %s", srv.Name(), name)
		})
	}
	for _, k := range proto.Kinds {
		s, err := b.StreamOf(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(-1)
		if k == proto.KindMetrics || k == proto.KindAnomaly {
			want = perSeries
		}
		if got := s.CachedInfo().Config.MaxMsgsPerSubject; got != want {
			t.Errorf("%s caps a subject at %d, want %d", k, got, want)
		}
	}
}

// maxPer is a replica's per-subject cap for a message, "none" without its config.
func maxPer(c *server.StreamConfig) any {
	if c == nil {
		return "none"
	}
	return c.MaxMsgsPer
}

// TestProvisioningNamesTheSeriesItTrims: giving a stream the per-series
// cap, or lowering it, deletes the oldest messages of every series over
// it as provisioning runs (an upgrade from a release without the cap
// trims a tier ticking every second or so to its last few days). The
// operator must hear which series lose how much, and how to keep them;
// provisioning that trims nothing says nothing.
func TestProvisioningNamesTheSeriesItTrims(t *testing.T) {
	url := natstest.RunJetStream(t)
	old := mustBus(t, url, func(c *bus.Config) { c.Streams.MaxMsgsPerSeries = -1 })
	flood(t, old, proto.MetricsSubject("apm", "flood", "web"), 3_000)
	flood(t, old, proto.MetricsSubject("apm", "quiet", "web"), 10)

	// trims is the warning provisioning logs for the series a cap trims.
	const trims = "the per-series cap trims the oldest messages of the series over it now; to keep them, provision with -stream.max-msgs-per-series at least the largest"
	provision := func(perSeries int64) []map[string]any {
		t.Helper()
		var logs natstest.Logs
		cfg := bus.DefaultConfig()
		cfg.URL, cfg.Name, cfg.Streams.MaxMsgsPerSeries = url, "provision", perSeries
		b, err := bus.Connect(context.Background(), cfg, zerolog.New(&logs), prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = b.Close(5 * time.Second) }()
		if err := b.EnsureStreams(context.Background()); err != nil {
			t.Fatal(err)
		}
		return logs.Lines(t, trims)
	}
	lines := provision(bus.MinMaxMsgsPerSeries)
	if len(lines) != 1 {
		t.Fatalf("provisioning that trims one series of METRICS logged %v, want one warning", lines)
	}
	for field, want := range map[string]any{"stream": "METRICS", "series_over": 1.0, "messages_trimmed": 1000.0, "largest": 3000.0} {
		if lines[0][field] != want {
			t.Errorf("provisioning that trims a series logged %s %v, want %v (%v)", field, lines[0][field], want, lines[0])
		}
	}
	if series, _ := lines[0]["series"].(string); !strings.HasPrefix(series, "apm.metrics.flood.web") {
		t.Errorf("provisioning that trims a series named %q, want apm.metrics.flood.web", series)
	}
	if lines := provision(bus.MinMaxMsgsPerSeries); len(lines) != 0 {
		t.Errorf("provisioning again at the same cap logged %v, want nothing trimmed", lines)
	}
	if lines := provision(bus.MinMaxMsgsPerSeries + 1000); len(lines) != 0 {
		t.Errorf("raising the cap logged %v, want nothing trimmed", lines)
	}
}
