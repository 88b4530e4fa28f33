package gateway

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/proto"
)

// TestDigestForgetsEmptySubjects: series come and go (the push API frees
// the places of idle ones), and the digest's byte cap drops the old
// entries of those gone; the subjects left without entries are dropped
// too, so what the digest holds per subject, which its byte count does not
// include, does not grow with every series ever seen.
func TestDigestForgetsEmptySubjects(t *testing.T) {
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.DigestMaxBytes = 64 << 10
	d := newDigest(cfg, m)
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	const rounds, perRound = 200, 20
	seq := uint64(0)
	for r := range rounds {
		ts := t0.Add(time.Duration(r) * time.Hour)
		for i := range perRound {
			app := fmt.Sprintf("app%d", r*perRound+i) // a new series each time
			data, err := proto.Encode(proto.NewMetrics(app, "web", ts, 2, proto.Floats{"rps": 1}))
			if err != nil {
				t.Fatal(err)
			}
			seq++
			d.add(proto.KindMetrics, "METRICS", proto.MetricsSubject("apm", app, "web"), seq, proto.Millis(ts), data)
		}
	}
	if d.bytes > cfg.DigestMaxBytes {
		t.Fatalf("digest holds %d bytes, over its cap %d", d.bytes, cfg.DigestMaxBytes)
	}
	subjects := len(d.streams["METRICS"].subjects)
	if subjects > d.entries {
		t.Errorf("%d subjects kept for %d entries (of %d series seen): the subjects without entries are not dropped", subjects, d.entries, rounds*perRound)
	}
}
