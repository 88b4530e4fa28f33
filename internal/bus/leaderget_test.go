package bus_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
)

// TestLeaderGetWaitsLikeOtherAPICalls: a stream leader that answers a
// message get slowly (a loaded machine: 2 cores under -race) is waited
// for as long as any other JetStream API call of the bus (20 s, raised
// from nats.go's 5 s because such calls once failed a service's start
// there), not cut short at 5 s. A get that fails fails a take-over's
// acquire or replay (the partition restarts) and a collector source's
// start (the service stops). The leader here is a plain subscriber that
// answers after 5.5 s.
func TestLeaderGetWaitsLikeOtherAPICalls(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 5.5 s for a slow answer")
	}
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	leader, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(leader.Close)
	const slow = 5500 * time.Millisecond
	if _, err := leader.Subscribe("$JS.API.STREAM.MSG.GET.SLOW", func(m *nats.Msg) {
		time.AfterFunc(slow, func() { _ = m.Respond([]byte(`{"message":{"subject":"apm.metrics.shop.web","seq":42}}`)) })
	}); err != nil {
		t.Fatal(err)
	}
	if err := leader.Flush(); err != nil {
		t.Fatal(err)
	}
	b := natstest.Connect(t, s.ClientURL(), "slowleader", natstest.Log(t), false)
	start := time.Now()
	seq, err := bus.LeaderLastSeq(context.Background(), b, "SLOW", "apm.metrics.shop.web")
	if err != nil || seq != 42 {
		t.Fatalf("after %v: seq %d, %v; want 42 from a leader answering after %v", time.Since(start).Round(time.Millisecond), seq, err, slow)
	}
}
