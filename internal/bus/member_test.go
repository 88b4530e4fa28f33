package bus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
)

// TestSlowMemberIsNotDropped: a member whose answers to the group's ping
// come late (a saturated machine) but within the ping window stays in the
// others' view ping after ping, so its partitions do not move back and
// forth. The member answering here is a stand-in that answers every ping
// 400 ms late, well after the real member's own answer; the ping used to
// stop listening 150 ms after the first answer and drop it after three.
func TestSlowMemberIsNotDropped(t *testing.T) {
	url := natstest.RunJetStream(t)
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name, cfg.GroupCheck = url, "fast", time.Second
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(zerolog.NewTestWriter(t)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if err := b.WaitConnected(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}

	// The slow member: answers the group's micro PING as a member would,
	// 400 ms late.
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	name := b.MemberName("forecaster")
	subj, err := micro.ControlSubject(micro.PingVerb, name, "")
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := json.Marshal(micro.Ping{ServiceIdentity: micro.ServiceIdentity{Name: name, ID: "slow-member", Version: "1.0.0"}, Type: micro.PingResponseType})
	if _, err := nc.Subscribe(subj, func(m *nats.Msg) {
		go func() {
			time.Sleep(400 * time.Millisecond) // the answer's lateness is what is under test
			_ = m.Respond(answer)
		}()
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	_, view, leave, err := b.JoinGroup("forecaster")
	if err != nil {
		t.Fatal(err)
	}
	defer leave()
	natstest.Eventually(t, 10*time.Second, func() error {
		if !slices.Contains(view(), "slow-member") {
			return fmt.Errorf("members %v: the slow member is not seen", view())
		}
		return nil
	})
	// Eight more pings: it must be in every view.
	until := time.Now().Add(8 * cfg.GroupCheck)
	for time.Now().Before(until) {
		if ms := view(); !slices.Contains(ms, "slow-member") {
			t.Fatalf("the slow member was dropped: members %v", ms)
		}
		time.Sleep(50 * time.Millisecond) // sampling the view while pings go on
	}
}
