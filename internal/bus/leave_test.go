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
	"github.com/headroomhq/headroom/proto"
)

// TestGracefulLeaveIsHeardAtOnce: a member that stops gracefully says so,
// and the other drops it from its view within a group check
// and takes its partitions, where it used to wait out missedPings (3)
// missed pings, 6-9 s at the default 2 s, holding the leaver's partitions'
// ticks meanwhile.
func TestGracefulLeaveIsHeardAtOnce(t *testing.T) {
	const every = 3 * time.Second
	url := natstest.RunJetStream(t)
	pub := natstest.Connect(t, url, "publisher", zerolog.Nop(), true)

	_, _, stopA := groupMemberEvery(t, url, "a", every)
	bm, bb, _ := groupMemberEvery(t, url, "b", every)
	self, view, leave, err := bb.JoinGroup("forecaster") // b's member, as its Consume joined it
	if err != nil {
		t.Fatal(err)
	}
	defer leave()
	natstest.Eventually(t, 30*time.Second, func() error {
		if ms := view(); len(ms) != 2 {
			return fmt.Errorf("b sees members %v, want a and b", ms)
		}
		return nil
	})
	publishRound(t, pub, 0)
	checkOutputs(t, pub, 1, 30*time.Second)
	if n := bm.owned(); n == 0 || n == proto.DefaultPartitions {
		t.Fatalf("b owns %d partitions, want a share", n)
	}
	gone := slices.DeleteFunc(slices.Clone(view()), func(id string) bool { return id == self })[0]

	stopA() // drains, unpins, leaves
	left := time.Now()
	// Missed pings could drop a no sooner than 2 group checks after it
	// stopped answering (the third missed round): one check tells a leave
	// heard from them with room for a loaded machine.
	natstest.Eventually(t, every, func() error {
		if ms := view(); slices.Contains(ms, gone) {
			return fmt.Errorf("b still sees a (%s) %v after it left", gone, time.Since(left).Round(time.Millisecond))
		}
		return nil
	})
	t.Logf("b dropped a %v after a left", time.Since(left).Round(time.Millisecond))
	publishRound(t, pub, 1)
	took := checkOutputs(t, pub, 2, 2*every)
	t.Logf("b took a's partitions and caught up in %v", took.Round(10*time.Millisecond))
	if n := bm.owned(); n != proto.DefaultPartitions {
		t.Fatalf("b owns %d partitions after a left, want all %d", n, proto.DefaultPartitions)
	}
}

// TestForgedLeaveOfLiveMember: a leave naming a member that still answers
// pings (forged, or stale) drops it from the others' view only until their
// next ping round, which hears it again; the member named ignores it.
func TestForgedLeaveOfLiveMember(t *testing.T) {
	const every = time.Second
	url := natstest.RunJetStream(t)
	join := func(name string) (string, func() []string) {
		cfg := bus.DefaultConfig()
		cfg.URL, cfg.Name, cfg.GroupCheck = url, name, every
		b, err := bus.Connect(context.Background(), cfg, zerolog.New(zerolog.NewTestWriter(t)).With().Str("member", name).Logger(), prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.Close(5 * time.Second) })
		id, view, leave, err := b.JoinGroup("forecaster")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(leave)
		return id, view
	}
	_, viewB := join("b")
	c, viewC := join("c")
	natstest.Eventually(t, 10*time.Second, func() error {
		if ms := viewB(); !slices.Contains(ms, c) {
			return fmt.Errorf("b sees %v, not c", ms)
		}
		return nil
	})

	forger, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer forger.Close()
	if err := forger.Publish("$SRV.LEAVE.headroom_apm_forecaster", []byte(c)); err != nil {
		t.Fatal(err)
	}
	if err := forger.Flush(); err != nil {
		t.Fatal(err)
	}
	selfKept := func() error {
		if ms := viewC(); !slices.Contains(ms, c) {
			t.Fatalf("c dropped itself on a leave naming it: %v", ms)
		}
		return nil
	}
	natstest.Eventually(t, every/2, func() error {
		_ = selfKept()
		if ms := viewB(); slices.Contains(ms, c) {
			return fmt.Errorf("b still sees c after its leave: %v", ms)
		}
		return nil
	})
	forged := time.Now()
	natstest.Eventually(t, 3*every, func() error {
		_ = selfKept()
		if ms := viewB(); !slices.Contains(ms, c) {
			return fmt.Errorf("b does not see c, alive, back: %v", ms)
		}
		return nil
	})
	t.Logf("c was back in b's view %v after the forged leave", time.Since(forged).Round(time.Millisecond))
}

// TestLeaveDuringPingRound: a member that answers a ping round and says it
// leaves before that round ends is not brought back by its answer: the
// round it answered began before it left.
func TestLeaveDuringPingRound(t *testing.T) {
	const every = time.Second
	url := natstest.RunJetStream(t)
	b := mustBus(t, url, func(c *bus.Config) { c.Name, c.GroupCheck = "b", every })

	// The leaver: a stand-in member answering the group's ping; once told
	// to leave, it answers one more ping and says its leave right after,
	// while that round still waits for answers.
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
	answer, _ := json.Marshal(micro.Ping{ServiceIdentity: micro.ServiceIdentity{Name: name, ID: "leaver", Version: "1.0.0"}, Type: micro.PingResponseType})
	leaving, said := make(chan struct{}), make(chan struct{})
	// pinged gets each ping the leaver hears once gone: b sends a round's
	// ping only after it has applied the round before to its view.
	pinged := make(chan struct{}, 8)
	gone := false // only the subscription's goroutine touches it
	if _, err := nc.Subscribe(subj, func(m *nats.Msg) {
		if gone {
			select {
			case pinged <- struct{}{}:
			default:
			}
			return
		}
		_ = m.Respond(answer)
		select {
		case <-leaving:
			gone = true
			_ = nc.Publish("$SRV.LEAVE."+name, []byte("leaver"))
			close(said)
		default:
		}
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
		if ms := view(); !slices.Contains(ms, "leaver") {
			return fmt.Errorf("members %v: the leaver is not seen", ms)
		}
		return nil
	})
	close(leaving)
	select {
	case <-said:
	case <-time.After(5 * every):
		t.Fatal("the leaver was not pinged")
	}
	natstest.Eventually(t, every/2, func() error {
		if ms := view(); slices.Contains(ms, "leaver") {
			return fmt.Errorf("members %v: the leaver is still seen", ms)
		}
		return nil
	})
	// The answer it gave the round it left in must not bring it back: the
	// next two rounds' pings come only once b has applied that round and
	// the one after it.
	for round := 1; round <= 2; round++ {
		select {
		case <-pinged:
		case <-time.After(5 * every):
			t.Fatalf("round %d after the leave was not pinged", round)
		}
		if ms := view(); slices.Contains(ms, "leaver") {
			t.Fatalf("the leaver is back in the view %d rounds after its leave: members %v", round, ms)
		}
	}
}

// TestOnlyLastLeaveSaysIt: a process's consumers of one service share its
// member; one of them stopping while another still runs must not tell the
// group the member left (the others would take the partitions it still
// handles until their next ping). Only the last leave says it.
func TestOnlyLastLeaveSaysIt(t *testing.T) {
	url := natstest.RunJetStream(t)
	b := mustBus(t, url, func(c *bus.Config) { c.Name = "b" })
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	sub, err := nc.SubscribeSync("$SRV.LEAVE." + b.MemberName("forecaster"))
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	id, _, leaveFirst, err := b.JoinGroup("forecaster")
	if err != nil {
		t.Fatal(err)
	}
	again, _, leaveLast, err := b.JoinGroup("forecaster")
	if err != nil {
		t.Fatal(err)
	}
	if again != id {
		t.Fatalf("second join got member %s, want the shared %s", again, id)
	}
	leaveFirst()
	// A leave said by leaveFirst was flushed to the server before it
	// returned; this round trip brings it to the listener.
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if n, _, err := sub.Pending(); err != nil || n != 0 {
		t.Fatalf("a leave while another consumer still holds the member: %d said (err %v)", n, err)
	}
	leaveLast()
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("the last leave was not said: %v", err)
	}
	if string(msg.Data) != id {
		t.Fatalf("leave names %q, want %s", msg.Data, id)
	}
}
