package executor_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// flood is how many messages that supersede nothing the tests store after
// a live change: more than a judgement used to read (64) before it gave
// up and refused the change as "superseded: cannot tell".
const flood = 100

// storeReplayed stores n decisions of shop.web on replayed input after
// after, a millisecond apart: a fast replay under the live app's name
// (collector replay --as shop) between two live ticks.
func storeReplayed(h *harness, after time.Time, n int) {
	h.t.Helper()
	for i := 1; i <= n; i++ {
		r := tierDecision("shop", "web", after.Add(time.Duration(i)*time.Millisecond), 5, 9)
		r.Flags = []string{proto.FlagReplayedInput}
		h.publish(r)
	}
}

// storeJunk has the server store n messages on shop.web's decision
// subject that no decider wrote (an API answer on a reply subject, as
// TestCopiesAfterADecisionDoesNotSupersedeIt stores one).
func storeJunk(h *harness, n int) {
	h.t.Helper()
	js := natstest.JetStream(h.t, h.b)
	for i := range n {
		m := nats.NewMsg(proto.DecisionSubject("apm", "shop", "web"))
		m.Data = fmt.Appendf(nil, `{"type":"io.nats.jetstream.api.v1.account_info_response","streams":%d}`, i)
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			h.t.Fatal(err)
		}
	}
}

// TestLiveChangeActsBehindAFlood: a live change stored, then more than 64
// messages that supersede nothing (decisions on replayed input, or
// messages any client can have the server store there), before the
// executor judges the change. The change is carried out: judged by the
// last message and a bounded read after it, it was refused as
// "superseded: cannot tell whether a newer decision is stored", and a
// fast replay under the live app's name (or an attacker's requests) kept
// the live tier from scaling.
func TestLiveChangeActsBehindAFlood(t *testing.T) {
	for _, c := range []struct {
		name  string
		store func(h *harness, after time.Time)
	}{
		{"replayed decisions", func(h *harness, after time.Time) { storeReplayed(h, after, flood) }},
		{"junk", func(h *harness, _ time.Time) { storeJunk(h, flood) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			live := tierDecision("shop", "web", t0.Add(-20*time.Second), 3, 5)
			h.publish(live)
			c.store(h, proto.Time(live.TS))
			// A live hold after the flood records the count on record:
			// the live change's, which the flood left in place.
			end := tierDecision("shop", "web", t0.Add(-5*time.Second), 5, 5)
			log := filepath.Join(t.TempDir(), "argv.log")
			h.start(commandConfig(log, ""), fixedClock(t0))
			h.waitState(live)
			if got := decisionsActed(t, log); len(got) != 1 || got[0] != live.ID {
				t.Errorf("acted on %v, want the live change %s", got, live.ID)
			}
			for _, r := range reasonsOf(t, h, "shop") {
				if strings.HasPrefix(r, "superseded") {
					t.Errorf("a change skipped for %q", r)
				}
			}
			h.publish(end)
			if st := h.waitState(end); st.Desired != 5 || st.DecisionID != live.ID {
				t.Errorf("state desired %d (decision %s), want the live 5 (%s)", st.Desired, st.DecisionID, live.ID)
			}
		})
	}
}

// TestNewerLiveDecisionBehindAFloodSupersedes: a genuinely newer live
// decision stored after 100 replayed ones still supersedes the live change
// before them, whether it is the last message on the subject or more than
// 64 others (junk) follow it: the first is skipped as superseded, naming
// the newer one, and only the newer one is carried out.
func TestNewerLiveDecisionBehindAFloodSupersedes(t *testing.T) {
	for _, junkAfter := range []int{0, flood} {
		t.Run(fmt.Sprintf("%d junk after the newer", junkAfter), func(t *testing.T) {
			h := newHarness(t)
			live := tierDecision("shop", "web", t0.Add(-20*time.Second), 3, 5)
			h.publish(live)
			storeReplayed(h, proto.Time(live.TS), flood)
			newer := tierDecision("shop", "web", t0.Add(-10*time.Second), 3, 6)
			h.publish(newer)
			storeJunk(h, junkAfter)
			log := filepath.Join(t.TempDir(), "argv.log")
			h.start(commandConfig(log, ""), fixedClock(t0))
			h.waitState(newer)
			if got := decisionsActed(t, log); len(got) != 1 || got[0] != newer.ID {
				t.Errorf("acted on %v, want only the newer %s", got, newer.ID)
			}
			var superseded []string
			for _, r := range reasonsOf(t, h, "shop") {
				if strings.HasPrefix(r, "superseded") {
					superseded = append(superseded, r)
				}
			}
			if len(superseded) != 1 || !strings.HasPrefix(superseded[0], "superseded: a newer decision for shop.web is stored") {
				t.Errorf("skipped as superseded for %q, want the live change once, superseded by a newer decision", superseded)
			}
		})
	}
}

// TestSupersessionReadsEachMessageOnce: two live changes of a tier, each
// followed by 100 messages that supersede nothing. Judging the first reads
// every message after it (the last is no decision); judging the second
// reads none again: what the first read is kept with the tier. Read again
// for each change, a flood stored once cost every change judged before it
// a read of all of it (headroom_executor_superseded_reads_total 301, not
// 201).
func TestSupersessionReadsEachMessageOnce(t *testing.T) {
	h := newHarness(t)
	first := tierDecision("shop", "web", t0.Add(-20*time.Second), 3, 5)
	h.publish(first)
	storeJunk(h, flood)
	// Wanting the count the first wants, it does not supersede it.
	second := tierDecision("shop", "web", t0.Add(-10*time.Second), 3, 5)
	h.publish(second)
	storeJunk(h, flood)
	log := filepath.Join(t.TempDir(), "argv.log")
	reg := prometheus.NewRegistry()
	h.startWith(commandConfig(log, ""), nil, reg, fixedClock(t0))
	h.waitState(second)
	if got := decisionsActed(t, log); len(got) != 1 || got[0] != first.ID {
		t.Errorf("acted on %v, want the first change %s", got, first.ID)
	}
	if got, _ := metricstest.Sum(t, reg, "headroom_executor_superseded_reads_total"); got != 2*flood+1 {
		t.Errorf("headroom_executor_superseded_reads_total %v, want %d: each message after the first change read once", got, 2*flood+1)
	}
}

// TestDecisionTheExecutorRefusesSupersedesNothing: a decision stored after
// a live change that the executor itself dead-letters unread (an event
// time beyond now plus the allowed skew, or an id that is not its app,
// tier and time's: what only a stolen decider identity stores) is no
// newer decision: the change is carried out. Taken for one, a single
// decision stamped 48 h ahead had every change of the tier skipped as
// superseded for 48 h, while it was itself never acted on.
func TestDecisionTheExecutorRefusesSupersedesNothing(t *testing.T) {
	for _, c := range []struct {
		name   string
		forged func() *proto.Decision
	}{
		{"from the future", func() *proto.Decision { return tierDecision("shop", "web", t0.Add(48*time.Hour), 4, 9) }},
		{"an id not its own", func() *proto.Decision {
			d := tierDecision("shop", "web", t0.Add(-5*time.Second), 4, 9)
			d.ID = proto.DecisionID("shop", "web", proto.Millis(t0.Add(time.Minute)))
			return d
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			live := tierDecision("shop", "web", t0.Add(-10*time.Second), 3, 4)
			h.publish(live, c.forged())
			log := filepath.Join(t.TempDir(), "argv.log")
			h.start(commandConfig(log, ""), fixedClock(t0))
			h.deadLetters(1)
			if st := h.waitState(live); st.Desired != 4 {
				t.Errorf("state desired %d, want the live change's 4", st.Desired)
			}
			if got := decisionsActed(t, log); len(got) != 1 || got[0] != live.ID {
				t.Errorf("acted on %v, want the live change %s", got, live.ID)
			}
			for _, r := range reasonsOf(t, h, "shop") {
				if strings.HasPrefix(r, "superseded") {
					t.Errorf("the live change skipped for %q", r)
				}
			}
		})
	}
}

// TestKeptReadJudgesEachChangeByWhatFollowsIt: what the judgement of one
// change read of its tier's subject serves the judgement of the next, from
// that one's place and time: three changes, the middle one stored again
// after the last (a producer's retry outside the dedupe window), then a
// message that is no decision. Only the last change is carried out: the
// first is superseded by the copy after it, the middle one by the last,
// not by its own copy (no later than it), and the last by nothing. The
// read kept from the first judgement, taken as it was, named the copy as
// the middle one's latest (acting on it) and the last's (skipping it).
func TestKeptReadJudgesEachChangeByWhatFollowsIt(t *testing.T) {
	h := newHarness(t)
	first := tierDecision("shop", "web", t0.Add(-40*time.Second), 3, 5)
	middle := tierDecision("shop", "web", t0.Add(-30*time.Second), 5, 4)
	last := tierDecision("shop", "web", t0.Add(-20*time.Second), 4, 6)
	h.publish(first, middle, last)
	h.publishCopy(middle)
	storeJunk(h, 1)
	log := filepath.Join(t.TempDir(), "argv.log")
	h.start(commandConfig(log, ""), fixedClock(t0))
	if st := h.waitState(last); st.Desired != 6 {
		t.Errorf("state desired %d, want the last change's 6", st.Desired)
	}
	if got := decisionsActed(t, log); len(got) != 1 || got[0] != last.ID {
		t.Errorf("acted on %v, want only the last change %s", got, last.ID)
	}
	want := []string{"superseded: a newer decision for shop.web is stored (seq 4 after 1)",
		"superseded: a newer decision for shop.web is stored (seq 3 after 2)"}
	if got := h.skippedReasons("shop", 2); got[0] != want[0] || got[1] != want[1] {
		t.Errorf("skipped for %q, want %q", got, want)
	}
}
