package bus_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
)

// shareMember connects a bus named name with a short group check and
// joins the "collector" share.
func shareMember(t *testing.T, url, name string) (*bus.Bus, *bus.Share) {
	t.Helper()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name, cfg.GroupCheck = url, name, 200*time.Millisecond
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sh, err := b.Share(ctx, "collector")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sh.Close)
	return b, sh
}

// split checks that the shares agree on members and that every key has
// exactly one owner among them, and returns how many keys each owns.
func split(shares []*bus.Share, keys []string) ([]int, error) {
	views := make([]bus.ShareView, len(shares))
	var ids []string
	for i, s := range shares {
		views[i] = s.View()
		ids = append(ids, s.Member())
	}
	slices.Sort(ids)
	owned := make([]int, len(shares))
	for i, v := range views {
		if !slices.Equal(v.Members(), ids) {
			return nil, fmt.Errorf("member %d sees %v, want %v", i, v.Members(), ids)
		}
	}
	for _, k := range keys {
		n := 0
		for i, v := range views {
			if v.Owns(k) {
				n++
				owned[i]++
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("key %s has %d owners", k, n)
		}
	}
	return owned, nil
}

// TestShareSplitsKeysAndHandsOver starts three members of one share: the
// keys are split among them with one owner each; one leaves gracefully and
// one is killed (its connection dropped), and the survivor's view changes
// until it owns every key.
func TestShareSplitsKeysAndHandsOver(t *testing.T) {
	url := natstest.RunJetStream(t)
	var keys []string
	for i := range 30 {
		keys = append(keys, "app"+strconv.Itoa(i))
	}
	var buses []*bus.Bus
	var shares []*bus.Share
	for i := range 3 {
		b, sh := shareMember(t, url, "collector-"+strconv.Itoa(i))
		buses, shares = append(buses, b), append(shares, sh)
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		owned, err := split(shares, keys)
		if err != nil {
			return err
		}
		for i, n := range owned {
			if n == 0 {
				return fmt.Errorf("member %d owns none of %d keys", i, len(keys))
			}
		}
		return nil
	})

	survivor := shares[0]
	changed := survivor.View().Changed()
	shares[1].Close()
	buses[2].Abort() // as kill -9: no goodbye
	gone := time.Now()
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the survivor's view did not change")
	}
	natstest.Eventually(t, 10*time.Second, func() error {
		_, err := split(shares[:1], keys)
		return err
	})
	t.Logf("the survivor owned every key %v after one member left and one died", time.Since(gone).Round(10*time.Millisecond))
}

// TestShareNeedsMembers fails Share when its context ends before the
// members are known, and refuses a bad service name.
func TestShareNeedsMembers(t *testing.T) {
	url := natstest.RunJetStream(t)
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = url, "x"
	b, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	if _, err := b.Share(context.Background(), "Bad Name"); err == nil {
		t.Fatal("a bad service name was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Share(ctx, "collector"); err == nil {
		t.Fatal("Share returned with its context ended")
	}
	sh, err := b.Share(context.Background(), "collector")
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	if v := sh.View(); !v.Owns("anything") || len(v.Members()) != 1 {
		t.Fatalf("a lone member sees %v", v.Members())
	}
}
