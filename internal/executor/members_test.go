package executor_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/natstest"
)

// TestTwoExecutorsActOnceEach runs two executors with a real (command)
// driver on one server, as two copies of the service would run, each
// naming itself in its command: each decision that changes the count is
// acted on exactly once, by the one member that holds the app's partition,
// never by both. Once that member stops, the other takes the partition over
// and acts on the decisions that follow, again once each.
func TestTwoExecutorsActOnceEach(t *testing.T) {
	h := newHarness(t)
	log := filepath.Join(t.TempDir(), "argv.log")
	stops := map[string]func(){
		"member-a": h.start(commandConfig(log, " member-a")),
		"member-b": h.start(commandConfig(log, " member-b")),
	}
	// acted lists (decision id, member) per command run, in order.
	acted := func() (ids, members []string) {
		for _, c := range calls(t, log) {
			ids, members = append(ids, c.Argv[len(c.Argv)-2]), append(members, c.Argv[len(c.Argv)-1])
		}
		return ids, members
	}
	counts := []int{1, 3, 5, 2, 4, 6, 3}
	var want []string
	// publish sends the decisions from minute from to minute to, each once
	// the one before it is acted on, allowing the first one within (a
	// take-over) and the others 10 s; it returns the members that acted.
	publish := func(from, to int, within time.Duration) []string {
		t.Helper()
		var members []string
		for m := from; m < to; m++ {
			d := decision("shop", m, counts[m], counts[m+1])
			h.publish(d)
			want = append(want, d.ID)
			natstest.Eventually(t, within, func() error {
				var ids []string
				ids, members = acted()
				if !slices.Equal(ids, want) {
					return fmt.Errorf("acted on %v, want each of %v once, in order", ids, want)
				}
				return nil
			})
			within = 10 * time.Second
		}
		return members[len(members)-(to-from):]
	}

	first := publish(0, 3, 10*time.Second)
	if len(slices.Compact(slices.Clone(first))) != 1 {
		t.Fatalf("members %v acted on one app's decisions, want one member", first)
	}
	stops[first[0]]()
	second := publish(3, len(counts)-1, time.Minute)
	for _, m := range second {
		if m == first[0] {
			t.Fatalf("members %v acted after %s stopped", second, first[0])
		}
	}
	t.Logf("%s acted first, then %s", first[0], second[0])
}
