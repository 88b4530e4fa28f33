package executor_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/metricstest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

// raceRig is exec62's two-member race with real drivers of one system:
// member A's call setting 5 replicas stalls in flight until release;
// landed reports the system's count and the calls as they landed
// ("member:replicas").
type raceRig struct {
	cfgA, cfgB executor.Config
	entered    func() error // nil once A's call for 5 is in flight
	release    func()
	landed     func() (int, []string)
}

// startAsideWith is startAside with the registry the member's metrics go to.
func (h *harness) startAsideWith(cfg executor.Config, reg *prometheus.Registry, opts ...executor.Option) {
	h.t.Helper()
	clock := executor.WithClock(func() time.Time { return proto.Time(h.latest.Load()) })
	s, err := executor.New(cfg, service.Deps{Bus: h.connect("executor-aside"), Log: zerolog.New(zerolog.NewTestWriter(h.t)),
		Reg: reg, Ready: service.NewReady()}, append([]executor.Option{clock}, opts...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	natstest.Serve(h.t, "executor-aside", s.Run)
}

// runLeaseRace: A, the partition holder, carries out shop.web's 1→3, then
// its call for 3→5 stalls in flight (a slow API). The server takes A's
// pin, and member B (in a group of its own: a split view of the group)
// handles the newer 5→2: B must not call its driver while A's call is in
// flight, or A's older count lands last. Once A's call has landed and
// both are done, the system must run the newer decision's 2, as the state
// records.
func runLeaseRace(t *testing.T, rig raceRig) {
	h := newHarness(t)
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	changeInFlight(t, h, rig, regA)
	d4 := decision("shop", 4, 5, 2)
	startB(h, rig, regB)
	h.publish(d4)
	// B either waits on A's lease or (unleased) carries 5→2 out at once.
	natstest.Eventually(t, 30*time.Second, func() error {
		if n, _ := metricstest.Sum(t, regB, "headroom_executor_lease_waits_total"); n >= 1 {
			return nil
		}
		st, err := executor.ReadState(context.Background(), h.kv, "shop", "web")
		if err == nil && st != nil && st.DecisionID == d4.ID {
			return nil
		}
		return errors.New("B neither waited on A's lease nor carried 5→2 out")
	})
	rig.release()
	var st *proto.ReplicaState
	natstest.Eventually(t, 30*time.Second, func() error {
		var err error
		if st, err = executor.ReadState(context.Background(), h.kv, "shop", "web"); err != nil {
			return err
		}
		if _, calls := rig.landed(); st == nil || st.DecisionID != d4.ID || len(calls) < 3 {
			return fmt.Errorf("state %+v, calls %v: want %s recorded and 3 calls landed", st, calls, d4.ID)
		}
		return nil
	})
	count, calls := rig.landed()
	t.Logf("calls as they landed %v; state %+v", calls, st)
	if want := []string{"A:3", "A:5", "B:2"}; count != 2 || st.Desired != 2 || !slices.Equal(calls, want) {
		t.Errorf("the system runs %d replicas, the state records %d (%s): calls landed %v, want %v", count, st.Desired, st.DecisionID, calls, want)
	}
	if n, _ := metricstest.Sum(t, regB, "headroom_executor_lease_waits_total"); n < 1 {
		t.Errorf("B waited on a lease %v times, want at least 1", n)
	}
}

// TestLeaseCommandDriver: the race with the command driver, which cannot
// read the count back.
func TestLeaseCommandDriver(t *testing.T) {
	runLeaseRace(t, commandRaceRig(t))
}

// commandRaceRig: members A and B with the command driver. Its program
// appends member:replicas to a file as the call lands; A's run for 5
// blocks reading a fifo until released.
func commandRaceRig(t *testing.T) raceRig {
	dir := t.TempDir()
	script := filepath.Join(dir, "scale.sh")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
dir=$1 member=$2 n=$3
if [ -e "$dir/stall-$member-$n" ]; then
	rm "$dir/stall-$member-$n"
	: > "$dir/entered"
	cat "$dir/release" > /dev/null
fi
echo "$member:$n" >> "$dir/calls"
`), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := mkfifo(filepath.Join(dir, "release")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stall-A-5"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := func(member string) executor.Config {
		c := raceLease(authorised(executor.DefaultConfig()))
		c.Driver = executor.DriverCommand
		c.Command.Template = fmt.Sprintf("sh %s %s %s {replicas}", script, dir, member)
		c.Command.Timeout = 20 * time.Second
		return c
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			// Opening the fifo for writing waits for the reader; closing
			// it ends the reader's cat.
			go func() {
				if f, err := os.OpenFile(filepath.Join(dir, "release"), os.O_WRONLY, 0); err == nil {
					_ = f.Close()
				}
			}()
		})
	}
	t.Cleanup(release)
	return raceRig{cfgA: cfg("A"), cfgB: cfg("B"), release: release,
		entered: func() error {
			_, err := os.Stat(filepath.Join(dir, "entered"))
			return err
		},
		landed: func() (int, []string) {
			data, _ := os.ReadFile(filepath.Join(dir, "calls"))
			calls := strings.Fields(string(data))
			count := 0
			if len(calls) > 0 {
				_, _ = fmt.Sscanf(calls[len(calls)-1][strings.Index(calls[len(calls)-1], ":")+1:], "%d", &count)
			}
			return count, calls
		}}
}

// TestLeaseWebhookDriver: the race with the webhook driver, which cannot
// read the count back.
func TestLeaseWebhookDriver(t *testing.T) {
	runLeaseRace(t, webhookRaceRig(t))
}

// webhookRaceRig: members A and B with the webhook driver. The receiver
// sets its count as each POST lands (member from the path); A's POST for
// 5 blocks until released.
func webhookRaceRig(t *testing.T) raceRig {
	c := &sharedCluster{}
	entered, releaseCh := make(chan struct{}), make(chan struct{})
	var enterOnce, releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(releaseCh) }) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p executor.WebhookPayload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		member := strings.TrimPrefix(r.URL.Path, "/")
		if member == "A" && p.Replicas == 5 {
			enterOnce.Do(func() { close(entered) })
			<-releaseCh
		}
		c.mu.Lock()
		c.count = p.Replicas
		c.calls = append(c.calls, fmt.Sprintf("%s:%d", member, p.Replicas))
		c.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(release) // before srv.Close, which waits for the handlers
	cfg := func(member string) executor.Config {
		c := raceLease(authorised(executor.DefaultConfig()))
		c.Driver = executor.DriverWebhook
		c.Webhook.URL = srv.URL + "/" + member
		c.Webhook.Timeout, c.Webhook.TotalTimeout, c.Webhook.Attempts = 20*time.Second, 20*time.Second, 1
		return c
	}
	return raceRig{cfgA: cfg("A"), cfgB: cfg("B"), release: release,
		entered: func() error {
			select {
			case <-entered:
				return nil
			default:
				return errors.New("A's POST for 5 has not arrived")
			}
		},
		landed: c.state}
}

// changeInFlight starts member A (with rig's driver, its metrics in reg),
// has it carry out d1 (1→3), then sends d3 (3→5) and returns once A's
// driver call for it is in flight (rig holds it until released).
func changeInFlight(t *testing.T, h *harness, rig raceRig, reg *prometheus.Registry) (d1, d3 *proto.Decision) {
	t.Helper()
	h.startWith(rig.cfgA, nil, reg)
	d1 = decision("shop", 0, 1, 3)
	h.publish(d1)
	h.waitState(d1)
	d3 = decision("shop", 3, 3, 5)
	h.publish(d3)
	natstest.Eventually(t, 10*time.Second, rig.entered)
	return d1, d3
}

// startB hands shop.web's partition over (A's pin dropped) and starts
// member B beside A, with rig's driver and its metrics in reg.
func startB(h *harness, rig raceRig, reg *prometheus.Registry) {
	h.unpin(proto.DecisionSubject("apm", "shop", "web"))
	h.startAsideWith(rig.cfgB, reg, executor.WithGroup("executor-b"))
}
