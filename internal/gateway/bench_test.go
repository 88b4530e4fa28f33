package gateway

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vmihailenco/msgpack/v5"
)

func BenchmarkEncodeMsg(b *testing.B) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	m := newLiveMsg("apm.metrics.shop.web", "METRICS", 123456, 1767323045000, make([]byte, 300))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := encodeMsg(&buf, enc, "d.1", m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilterMatch(b *testing.B) {
	f, _ := parseFilter("apm", "apm.metrics.shop.*")
	b.ReportAllocs()
	for b.Loop() {
		if !f.match("apm.metrics.shop.web") || f.match("apm.metrics.blog.web") {
			b.Fatal("wrong match")
		}
	}
}

// BenchmarkDispatch200 fans one message out to 200 subscriptions, 10 of which
// match (200 dashboards over 20 apps), through the route cache.
func BenchmarkDispatch200(b *testing.B) {
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := &Gateway{metrics: m, prefix: "apm", cfg: DefaultConfig(), hub: hub{subs: map[*subscription]struct{}{}}, runCtx: ctx}
	for i := range 200 {
		c := newClient(g, nil, g.log, false, netip.Addr{})
		c.live = make(chan outItem, 1<<20)
		spec, err := subscribeSpec("apm", Request{Op: OpSubscribe, ID: "d", App: fmt.Sprintf("app%02d", i%20)}, 10)
		if err != nil {
			b.Fatal(err)
		}
		s := newSubscription(c, spec)
		g.addSub(s)
		go func() {
			for {
				select {
				case <-c.live:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	data := make([]byte, 300)
	b.ReportAllocs()
	for b.Loop() {
		g.dispatch("apm.metrics.app07.web", "METRICS", 1, 1, data)
	}
}
