package clustertest

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestMembersComeAndGo hands every stage's partitions over again and again
// while the load flows, on one server: after each ten minutes of load a
// member joins one service (each in turn) and one of its older members
// leaves, stopped as SIGTERM would or killed as kill -9 would, by turns
// (every other kill once the chunk is decided, the rest while it is still
// being handled); which member leaves is drawn from a fixed seed. Every
// take-over rebuilds from the recorded history, young series and old, so
// every anomaly message, forecast and decision must still equal the
// fault-free run's.
func TestMembersComeAndGo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two pipelines and a dozen hand-overs (about a minute)")
	}
	load := ticks(42)
	want := faultFree(t, load)

	url := natstest.RunJetStream(t)
	admin := natstest.Connect(t, url, "provision", zerolog.Nop(), true)
	members := map[string][]*member{}
	started := 0
	join := func(svc string) {
		members[svc] = append(members[svc], startMember(t, url, svc, started))
		started++
	}
	for _, svc := range services {
		join(svc)
		join(svc)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	const every = 10
	for c := 0; c < minutes; c += every {
		publish(t, admin, load[c:c+every])
		if (c/every)%4 == 2 {
			// Every other kill comes once the chunk is decided (its last
			// tick waits for the next), nothing in flight; the other kills
			// and the stops come while the chunk is still being handled.
			natstest.WaitEventTime(t, admin, "DECISIONS", subjectsOf(proto.DecisionSubject), t0.Add(time.Duration(c+every-2)*time.Minute), time.Minute)
		}
		svc := services[(c/every)%len(services)]
		join(svc)
		i := rng.IntN(len(members[svc]) - 1) // any but the one just joined
		leaving := members[svc][i]
		members[svc] = append(members[svc][:i], members[svc][i+1:]...)
		if (c/every)%2 == 0 {
			leaving.kill()
		} else {
			leaving.stop()
		}
	}
	settled(t, admin, 3*time.Minute)
	sameAsFaultFree(t, admin, want)
}
