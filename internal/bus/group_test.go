package bus_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// counter is a toy stateful stage: per app it counts the ticks seen and
// stamps the count into each tick's output, so an output made without the
// app's whole history carries a wrong count. Its state is per member.
type counter struct {
	mu     sync.Mutex
	seen   map[string]int64 // app → last tick index folded in
	parts  map[int]bool
	member string
}

func newCounter(member string) *counter {
	return &counter{seen: map[string]int64{}, parts: map[int]bool{}, member: member}
}

func (c *counter) spec() bus.ConsumerSpec {
	return bus.ConsumerSpec{Service: "forecaster", Name: "forecaster", Kind: proto.KindMetrics, AckWait: 5 * time.Second,
		Group: &bus.GroupSpec{
			Rebuild: true,
			Acquire: func(_ context.Context, p int) error {
				c.mu.Lock()
				defer c.mu.Unlock()
				c.parts[p] = true
				return nil
			},
			Release: func(p int) {
				c.mu.Lock()
				defer c.mu.Unlock()
				delete(c.parts, p)
			},
		}}
}

func (c *counter) handle(_ context.Context, m *bus.Msg) ([]bus.Out, error) {
	var tick proto.Metrics
	if err := proto.Decode(m.Data, &tick); err != nil {
		return nil, bus.Permanent(err)
	}
	i := int64(tick.Values["i"])
	c.mu.Lock()
	if i <= c.seen[tick.App] {
		c.mu.Unlock()
		return nil, nil // handled already (rebuild, then redelivery)
	}
	c.seen[tick.App] = i
	c.mu.Unlock()
	f := &proto.Forecast{V: 1, ID: proto.ForecastID(tick.App, tick.Tier, "rps", tick.TS), App: tick.App, Tier: tick.Tier, TS: tick.TS,
		Metric: "rps", StepMS: 60000, Model: strconv.FormatInt(i, 10)}
	return []bus.Out{{Subject: proto.ForecastSubject("apm", tick.App, tick.Tier), Msg: f}}, nil
}

func (c *counter) owned() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.parts)
}

// groupMember connects one copy of the service and runs the counter
// stage as a member of its group until the returned stop is called.
func groupMember(t *testing.T, url, name string) (c *counter, b *bus.Bus, stop func()) {
	t.Helper()
	return groupMemberEvery(t, url, name, 200*time.Millisecond)
}

// groupMemberEvery is groupMember with the group checked every groupCheck.
func groupMemberEvery(t *testing.T, url, name string, groupCheck time.Duration) (c *counter, b *bus.Bus, stop func()) {
	t.Helper()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name, cfg.GroupCheck = url, name, groupCheck
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(zerolog.NewTestWriter(t)).With().Str("member", name).Logger(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WaitConnected(context.Background(), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	c = newCounter(name)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := b.Consume(ctx, c.spec(), c.handle); err != nil {
			t.Error(err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			_ = b.Close(5 * time.Second)
		})
	}
	t.Cleanup(stop)
	return c, b, stop
}

const groupApps = 24

func publishRound(t *testing.T, b *bus.Bus, round int) {
	t.Helper()
	var outs []bus.Out
	for a := range groupApps {
		app := fmt.Sprintf("app%02d", a)
		for i := round*5 + 1; i <= round*5+5; i++ {
			m := proto.NewMetrics(app, "web", t0.Add(time.Duration(i)*time.Minute), 2, proto.Floats{"rps": 1, "i": float64(i)})
			outs = append(outs, bus.Out{Subject: proto.MetricsSubject("apm", app, "web"), Msg: m})
		}
	}
	if err := b.PublishAll(context.Background(), outs); err != nil {
		t.Fatal(err)
	}
}

// checkOutputs waits until every tick published so far has exactly one
// output, each carrying its tick's index (so made from the app's whole
// history), and returns how long that took.
func checkOutputs(t *testing.T, b *bus.Bus, rounds int, timeout time.Duration) time.Duration {
	t.Helper()
	began := time.Now()
	want := groupApps * rounds * 5
	natstest.Eventually(t, timeout, func() error {
		if n := streamMsgs(t, b, proto.KindForecast); int(n) != want {
			return fmt.Errorf("%d forecasts stored, want %d", n, want)
		}
		return nil
	})
	took := time.Since(began)
	for _, data := range natstest.Payloads(t, b, "FORECASTS", proto.Filter("apm", proto.KindForecast)) {
		var f proto.Forecast
		if err := proto.Decode(data, &f); err != nil {
			t.Fatal(err)
		}
		if want := strconv.FormatInt((f.TS-proto.Millis(t0))/60000, 10); f.Model != want {
			t.Fatalf("%s at %d made from count %s, want %s: state not rebuilt", f.App, f.TS, f.Model, want)
		}
	}
	return took
}

// TestGroupSharesAndHandsOver runs copies of one stateful service against
// one NATS: they split the partitions, a graceful stop and a killed
// connection each hand their share over within 30 s, every input has
// exactly one output, and every output is made from the app's whole
// history (the new owner rebuilt it).
func TestGroupSharesAndHandsOver(t *testing.T) {
	url := natstest.RunJetStream(t)
	pub := natstest.Connect(t, url, "publisher", zerolog.Nop(), true)

	a, _, stopA := groupMember(t, url, "a")
	publishRound(t, pub, 0)
	checkOutputs(t, pub, 1, 30*time.Second)
	if a.owned() != proto.DefaultPartitions {
		t.Fatalf("a alone owns %d partitions, want all %d", a.owned(), proto.DefaultPartitions)
	}

	// A second copy joins with no extra configuration and takes a share.
	// A partition is taken over on its first message after the hand-over.
	bm, bb, _ := groupMember(t, url, "b")
	natstest.Eventually(t, 30*time.Second, func() error {
		if na := a.owned(); na == proto.DefaultPartitions || na == 0 {
			return fmt.Errorf("a still owns %d partitions", na)
		}
		return nil
	})
	publishRound(t, pub, 1)
	checkOutputs(t, pub, 2, 30*time.Second)
	// (A partition is owned once a message of it arrives; with 24 apps
	// some of the 8 partitions may have none.)
	if na, nb := a.owned(), bm.owned(); na+nb > proto.DefaultPartitions || na == 0 || nb == 0 {
		t.Fatalf("partitions owned: a %d, b %d, want a share each", na, nb)
	}

	// A graceful stop hands a's share to b.
	stopA()
	publishRound(t, pub, 2)
	took := checkOutputs(t, pub, 3, 30*time.Second)
	t.Logf("graceful stop: b took over and caught up in %v", took.Round(10*time.Millisecond))
	if a.owned() != 0 {
		t.Fatalf("a still holds %d partitions after it stopped", a.owned())
	}

	// A third copy joins; then b's connection dies without a goodbye.
	cm, _, _ := groupMember(t, url, "c")
	natstest.Eventually(t, 30*time.Second, func() error {
		if nb := bm.owned(); nb == proto.DefaultPartitions {
			return fmt.Errorf("b still owns all partitions")
		}
		return nil
	})
	publishRound(t, pub, 3)
	checkOutputs(t, pub, 4, 30*time.Second)
	before := cm.owned()
	if before == 0 {
		t.Fatal("c took no partition")
	}
	killed := time.Now()
	bb.Abort() // as a kill -9 leaves it: no drain, no unpin, no goodbye
	publishRound(t, pub, 4)
	checkOutputs(t, pub, 5, 30*time.Second)
	t.Logf("killed member: c took over and caught up %v after the kill", time.Since(killed).Round(10*time.Millisecond))
	if cm.owned() <= before {
		t.Fatalf("c owns %d partitions after b died, as many as before", cm.owned())
	}
}
