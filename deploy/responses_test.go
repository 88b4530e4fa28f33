package deploy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestNATSConfSingleAnswersLeaveNoMapping: each request a service sends
// through an import leaves a response mapping in HEADROOM; one exported
// as a stream of answers (a pull, a batched direct get) outlives its last
// answer by the export's response threshold, up to twice 2 minutes, and
// the services' pulls alone keep a few thousand of them. A read of the
// last message on a subject ($JS.API.DIRECT.GET.<stream>.<subject>: a KV
// get, LastEventTimes) is answered once, so its mapping must go with its
// answer: exported as a stream, every such read stayed.
func TestNATSConfSingleAnswersLeaveNoMapping(t *testing.T) {
	setPasswords(t)
	s := startConfigured(t, "nats.conf", func(*server.Options) {})
	url := s.ClientURL()
	ctx := context.Background()
	if err := connectAs(t, url, "provision").Provision(ctx); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tick := proto.NewMetrics("shop", "web", time.Now().Truncate(time.Minute), 3, map[string]float64{"rps": 1})
	if err := connectAs(t, url, "collector").PublishAll(pctx, []bus.Out{{Subject: proto.MetricsSubject("apm", "shop", "web"), Msg: tick}}); err != nil {
		t.Fatal(err)
	}
	kv, err := connectAs(t, url, "executor").Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := kv.Put(ctx, proto.ReplicaKey("shop", "web"), []byte("state")); err != nil {
		t.Fatal(err)
	}
	leases, err := connectAs(t, url, "executor").Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leases.Take(ctx, proto.ReplicaKey("shop", "web"), []byte("lease"), time.Minute); err != nil {
		t.Fatal(err)
	}
	headroom, err := s.LookupAccount("HEADROOM")
	if err != nil {
		t.Fatal(err)
	}
	before := headroom.NumPendingAllResponses()
	const reads = 50
	for _, r := range []struct{ user, subject string }{
		{"executor", "$JS.API.DIRECT.GET.KV_REPLICAS.$KV.REPLICAS.shop.web"},
		{"collector", "$JS.API.DIRECT.GET.KV_REPLICAS.$KV.REPLICAS.shop.web"},
		{"executor", "$JS.API.DIRECT.GET.KV_EXEC_LEASES.$KV.EXEC_LEASES.shop.web"}, // Leases.Holder
		{"forecaster", "$JS.API.DIRECT.GET.METRICS.apm.metrics.shop.web.>"},
		{"decider", "$JS.API.DIRECT.GET.METRICS.apm.metrics.shop.web.>"},
	} {
		// Open until the count: the server drops the mappings of a
		// requester that has gone.
		nc := probe(t, url, r.user)
		defer nc.Close()
		for range reads {
			m, err := nc.Request(r.subject, nil, 5*time.Second)
			if err != nil {
				t.Fatalf("%s reading %s: %v", r.user, r.subject, err)
			}
			if st := m.Header.Get("Status"); st != "" {
				t.Fatalf("%s reading %s: status %s %s", r.user, r.subject, st, m.Header.Get("Description"))
			}
		}
	}
	// More than before means the reads left mappings. Fewer is fine: one
	// pending before (the set-up's last request, its mapping not yet
	// dropped) may have gone meanwhile. The server drops a single answer's
	// mapping only after handing the answer over, so the last read's may
	// still be there for a moment: wait for it, well within the 2 minutes
	// a stream export keeps every one of the reads'.
	natstest.Eventually(t, 10*time.Second, func() error {
		if after := headroom.NumPendingAllResponses(); after > before {
			return fmt.Errorf("%d response mappings pending in HEADROOM after %d reads of a last message, %d before: a single answer's mapping stays", after, 5*reads, before)
		}
		return nil
	})
}
