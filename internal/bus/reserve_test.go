package bus_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestReservationsAreWhatTheServerReserves: provisioning fits a server
// whose file store is exactly what Reservations adds up to, and a byte
// less is refused, so the sum the all-in-one and deploy/nats.conf size
// their stores by is the server's own accounting, not an estimate.
func TestReservationsAreWhatTheServerReserves(t *testing.T) {
	limits := smallLimits()
	total, capped := bus.Reserved(limits.Reservations(proto.DefaultPrefix))
	if !capped {
		t.Fatalf("Reserved(%+v) not capped", limits.Reservations(proto.DefaultPrefix))
	}
	for _, c := range []struct {
		store int64
		fits  bool
	}{{total, true}, {total - 1, false}} {
		err := provisionOn(t, c.store, limits)
		if fits := err == nil; fits != c.fits {
			t.Errorf("provisioning %d bytes of caps on a store of %d: %v, want fits %v", total, c.store, err, c.fits)
		}
	}
}

// TestProvisioningSaysWhichStreamDoesNotFit: a server whose file store
// cannot hold a stream's cap refuses the stream; the provisioning error
// names it, what it asks and through which flag, what provisioning asks
// in all, and the server setting to raise, and keeps the server's error.
func TestProvisioningSaysWhichStreamDoesNotFit(t *testing.T) {
	limits := smallLimits()
	total, _ := bus.Reserved(limits.Reservations(proto.DefaultPrefix))
	for _, c := range []struct {
		name   string
		store  int64
		stream string
		asks   int64
		flag   string
	}{
		{"fourth stream", 3*limits.MaxBytes + 1, "DECISIONS", limits.MaxBytes, "-stream.max-bytes"},
		{"replica bucket", int64(len(proto.Kinds)) * limits.MaxBytes, "KV_REPLICAS", limits.ReplicaMaxBytes, "-stream.replica-max-bytes"},
		{"lease bucket", total - 1, "KV_EXEC_LEASES", limits.LeaseMaxBytes(), "-stream.replica-max-bytes (half of it)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := provisionOn(t, c.store, limits)
			if err == nil {
				t.Fatalf("provisioning %d bytes of caps on a store of %d succeeded", total, c.store)
			}
			msg := err.Error()
			for _, want := range []string{c.stream, strconv.FormatInt(c.asks, 10) + " bytes", c.flag,
				strconv.FormatInt(total, 10) + " bytes", "max_file_store", "insufficient storage resources"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			var api *jetstream.APIError
			if !errors.As(err, &api) {
				t.Errorf("error %q lost the server's API error", msg)
			}
		})
	}
}

// smallLimits are the default stream limits with caps small enough to
// size a test server's store by: 8 MiB streams and a 1 MiB replica bucket.
func smallLimits() bus.StreamLimits {
	l := bus.DefaultConfig().Streams
	l.MaxBytes, l.ReplicaMaxBytes = 8<<20, 1<<20
	return l
}

// provisionOn provisions streams of limits on a new server whose file
// store holds store bytes, and returns what EnsureStreams did.
func provisionOn(t *testing.T, store int64, limits bus.StreamLimits) error {
	t.Helper()
	b := provisioner(t, natstest.StartStore(t, t.TempDir(), -1, store).ClientURL(), limits)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return b.EnsureStreams(ctx)
}

// provisioner connects a bus with stream limits to the server at url,
// closed when the test ends.
func provisioner(t *testing.T, url string, limits bus.StreamLimits) *bus.Bus {
	t.Helper()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name, cfg.Streams = url, "provision", limits
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(zerolog.NewTestWriter(t)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	return b
}

// TestProvisioningUncappedOnAFullStore: a stream without a cap
// (-stream.max-bytes -1) reserves nothing, yet the server refuses it when
// other streams reserve its whole store; the error says so, rather than
// that the stream asks -1 bytes.
func TestProvisioningUncappedOnAFullStore(t *testing.T) {
	limits := smallLimits()
	limits.MaxBytes = -1
	const store = 64 << 20
	b := provisioner(t, natstest.StartStore(t, t.TempDir(), -1, store).ClientURL(), limits)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	full := jetstream.StreamConfig{Name: "FULL", Subjects: []string{"full.>"}, MaxBytes: store, Storage: jetstream.FileStorage}
	if _, err := natstest.JetStream(t, b).CreateStream(ctx, full); err != nil {
		t.Fatal(err)
	}
	err := b.EnsureStreams(ctx)
	if err == nil {
		t.Fatal("provisioning uncapped streams on a store reserved in full succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"METRICS", "no cap", "-stream.max-bytes -1", "reserved in full", "max_file_store", "insufficient storage resources"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "-1 bytes") {
		t.Errorf("error %q says the stream asks -1 bytes", msg)
	}
}

// TestProvisioningSaysWhichStreamDoesNotFitACluster: at three replicas,
// a stream whose cap no server's file store can hold is refused by the
// meta leader (no suitable peers, insufficient storage: not the single
// server's refusal); the provisioning error names it, what it asks and
// the settings all the same. (Caps that each fit but together overfill
// a store are not reliably refused in a cluster: the leader places by
// the peers' last reported reservations, which lag a fast provisioning.)
func TestProvisioningSaysWhichStreamDoesNotFitACluster(t *testing.T) {
	limits := smallLimits()
	limits.Replicas = 3
	c := natstest.StartClusterStore(t, 3, limits.MaxBytes-1)
	b := provisioner(t, c.URL(), limits)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := b.EnsureStreams(ctx)
	if err == nil {
		t.Fatalf("provisioning %d-byte streams at three replicas on stores of %d succeeded", limits.MaxBytes, limits.MaxBytes-1)
	}
	msg := err.Error()
	for _, want := range []string{"METRICS", strconv.FormatInt(limits.MaxBytes, 10) + " bytes", "-stream.max-bytes", "max_file_store", "insufficient storage"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	var api *jetstream.APIError
	if !errors.As(err, &api) {
		t.Errorf("error %q lost the server's API error", msg)
	}
}
