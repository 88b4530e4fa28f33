package allinone_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/allinone"
	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// storeConfig is an all-in-one storing under dir whose streams are capped
// at maxBytes each, with only the parts that provision and serve.
func storeConfig(t *testing.T, dir string, maxBytes int64) allinone.Config {
	cfg := testConfig(t, time.Now().UTC().Truncate(time.Minute), 1)
	cfg.Collector.Backfill = time.Hour
	cfg.Without = map[string]bool{"forecaster": true, "anomaly": true, "decider": true, "executor": true}
	cfg.DataDir, cfg.Bus.Streams.MaxBytes = dir, maxBytes
	return cfg
}

// startLogged starts cfg's all-in-one logging into a sink the test reads,
// waits until it is ready and stops it, and returns its log lines
// about the JetStream store; it fails the test if the start failed.
func startLogged(t *testing.T, cfg allinone.Config) []map[string]any {
	t.Helper()
	logs := &natstest.Logs{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	up, done := make(chan *allinone.System, 1), make(chan error, 1)
	go func() {
		done <- allinone.Run(ctx, cfg, zerolog.New(logs), func(s *allinone.System) { up <- s })
	}()
	select {
	case sys := <-up:
		// Stopped once ready: a stop while the parts start up is not
		// under test.
		natstest.Eventually(t, 30*time.Second, sys.Ready.Err)
	case err := <-done:
		t.Fatalf("all-in-one with -stream.max-bytes %d did not start: %v", cfg.Bus.Streams.MaxBytes, err)
	case <-time.After(60 * time.Second):
		t.Fatal("all-in-one did not start in 60s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("all-in-one stopped with %v", err)
	}
	var store []map[string]any
	for _, l := range logs.Lines(t, "") {
		if m, _ := l["message"].(string); strings.HasPrefix(m, "jetstream store") {
			store = append(store, l)
		}
	}
	return store
}

// reserved is what the all-in-one's streams and buckets reserve at
// -stream.max-bytes maxBytes.
func reserved(t *testing.T, maxBytes int64) int64 {
	l := allinone.DefaultConfig().Bus.Streams
	l.MaxBytes = maxBytes
	total, capped := bus.Reserved(l.Reservations(proto.DefaultPrefix))
	if !capped {
		t.Fatalf("-stream.max-bytes %d: no total", maxBytes)
	}
	return total
}

// TestStartDoesNotDependOnFreeDisk: the all-in-one's streams may reserve
// more than the disk of its data folder has free (the default six 2 GiB
// streams on a laptop with 15 GB free), and it still starts, its embedded
// server limited to what the streams reserve rather than to 75 % of the
// disk free. It says so once, as a warning naming what it reserves, the
// disk free and the flag that lowers it.
func TestStartDoesNotDependOnFreeDisk(t *testing.T) {
	dir := t.TempDir()
	free, ok := allinone.FreeDisk(dir)
	if !ok {
		t.Skip("free disk unknown on this system")
	}
	// The six streams reserve 120 % of the disk free.
	maxBytes := free / 5
	lines := startLogged(t, storeConfig(t, dir, maxBytes))
	if len(lines) != 1 {
		t.Fatalf("%d log lines about the store, want 1: %v", len(lines), lines)
	}
	l := lines[0]
	want := reserved(t, maxBytes)
	if l["level"] != "warn" || l["reserved_bytes"] != float64(want) || l["disk_free_bytes"] == nil {
		t.Errorf("store log %v: want a warning, reserved_bytes %d and disk_free_bytes", l, want)
	}
	if m := l["message"].(string); !strings.Contains(m, "-stream.max-bytes") || !strings.Contains(m, "free") {
		t.Errorf("store warning %q names neither -stream.max-bytes nor the disk free", m)
	}
}

// TestStartWithALoweredStreamCap: the data folder's streams keep the cap
// they were provisioned with until provisioning lowers it, and the server
// checks each stream's update against everything reserved then, so an
// all-in-one restarted with a lower -stream.max-bytes must let its
// server reserve the old caps too; the next start reserves only the new.
func TestStartWithALoweredStreamCap(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ maxBytes, reserves int64 }{
		{64 << 20, reserved(t, 64<<20)},
		{32 << 20, reserved(t, 64<<20)},
		{32 << 20, reserved(t, 32<<20)},
	} {
		lines := startLogged(t, storeConfig(t, dir, c.maxBytes))
		if len(lines) != 1 || lines[0]["reserved_bytes"] != float64(c.reserves) {
			t.Errorf("-stream.max-bytes %d: store log %v, want reserved_bytes %d", c.maxBytes, lines, c.reserves)
		}
	}
}

// TestStartUncappedAfterCapped: a data folder whose streams were capped
// at more than the disk has free (the defaults on a small disk) still
// starts with -stream.max-bytes -1: the server checks each stream's
// update to no cap against what the recovered streams reserve, so its
// store must hold their old caps even then, not NATS's default of 75 %
// of the disk free.
func TestStartUncappedAfterCapped(t *testing.T) {
	dir := t.TempDir()
	free, ok := allinone.FreeDisk(dir)
	if !ok {
		t.Skip("free disk unknown on this system")
	}
	// The six streams reserve 120 % of the disk free.
	startLogged(t, storeConfig(t, dir, free/5))
	lines := startLogged(t, storeConfig(t, dir, -1))
	if len(lines) != 1 {
		t.Fatalf("%d log lines about the store, want 1: %v", len(lines), lines)
	}
	if m := lines[0]["message"].(string); !strings.Contains(m, "no cap") {
		t.Errorf("store log %q does not say the streams have no cap", m)
	}
}

// TestStartWhenNoStreamCapFits: when even the buckets leave the disk no
// room, no -stream.max-bytes fits, and the warning says so rather than
// suggesting -stream.max-bytes 0, which is no cap at all.
func TestStartWhenNoStreamCapFits(t *testing.T) {
	dir := t.TempDir()
	free, ok := allinone.FreeDisk(dir)
	if !ok {
		t.Skip("free disk unknown on this system")
	}
	cfg := storeConfig(t, dir, 1<<20)
	// The buckets alone reserve 150 % of the disk free.
	cfg.Bus.Streams.ReplicaMaxBytes = free
	lines := startLogged(t, cfg)
	if len(lines) != 1 || lines[0]["level"] != "warn" {
		t.Fatalf("store log %v, want one warning", lines)
	}
	m := lines[0]["message"].(string)
	if strings.Contains(m, "to 0") {
		t.Errorf("store warning %q suggests -stream.max-bytes 0 (no cap)", m)
	}
	if !strings.Contains(m, "no -stream.max-bytes fits") {
		t.Errorf("store warning %q does not say no -stream.max-bytes fits", m)
	}
	if _, ok := lines[0]["fitting_stream_max_bytes"]; ok {
		t.Errorf("store warning %v gives a fitting -stream.max-bytes", lines[0])
	}
}
