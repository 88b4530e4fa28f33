package deploy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/internal/allinone"
	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// The bounds deploy/nats.conf sets: the client bounds are the all-in-one's
// (one place for both servers); TestNATSConfLimits reads them back from the
// file and the tests below show the server refusing past each.
const (
	maxConnections   = allinone.MaxConnections
	maxSubscriptions = allinone.MaxSubscriptions
	maxPayload       = allinone.MaxPayload
	maxFileStore     = 14 << 30
	maxMemoryStore   = 256 << 20
	maxConsumers     = 256 // per stream
	// maxAccountConnections bounds each account's connections: seven
	// accounts at it stay within maxConnections.
	maxAccountConnections = 128
)

// TestNATSConfLimits: the file bounds connections, subscriptions per
// connection, message size and JetStream storage, rather than leaving the
// server's defaults (64 Ki connections, no subscription limit, 1 MiB
// messages, 75 % of the disk).
func TestNATSConfLimits(t *testing.T) {
	setPasswords(t)
	opts, err := server.ProcessConfigFile("nats.conf")
	if err != nil {
		t.Fatalf("nats.conf: %v", err)
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"max_connections", int64(opts.MaxConn), maxConnections},
		{"max_subscriptions", int64(opts.MaxSubs), maxSubscriptions},
		{"max_payload", int64(opts.MaxPayload), maxPayload},
		{"jetstream max_file_store", opts.JetStreamMaxStore, maxFileStore},
		{"jetstream max_memory_store", opts.JetStreamMaxMemory, maxMemoryStore},
		{"jetstream limits default_max_consumers", int64(opts.JetStreamLimits.DefaultMaxConsumers), maxConsumers},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
}

// TestNATSConfHoldsTheDefaultReservation: the shipped servers' file store
// (max_file_store; NATS reads "GB" as 1024³) holds what provisioning
// reserves at the default flags, as the stream and bucket code computes
// it, so `headroom provision` is not refused at the defaults. An operator
// raising -stream.max-bytes (each of the six streams) or
// -stream.replica-max-bytes (one and a half times, with the lease bucket)
// past the room left must raise it too: provisioning's error says so.
func TestNATSConfHoldsTheDefaultReservation(t *testing.T) {
	setPasswords(t)
	defaults := bus.DefaultConfig()
	reserved, capped := bus.Reserved(defaults.Streams.Reservations(defaults.Prefix))
	if !capped {
		t.Fatal("the default stream limits have no cap")
	}
	for _, path := range []string{"nats.conf", "local.conf"} {
		opts, err := server.ProcessConfigFile(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if opts.JetStreamMaxStore < reserved {
			t.Errorf("%s: max_file_store %d bytes, less than the %d the default streams and buckets reserve", path, opts.JetStreamMaxStore, reserved)
			continue
		}
		t.Logf("%s: max_file_store %d holds the default %d; -stream.max-bytes fits up to %d", path, opts.JetStreamMaxStore, reserved,
			(opts.JetStreamMaxStore-reserved)/int64(len(proto.Kinds))+defaults.Streams.MaxBytes)
	}
}

// TestNATSConfRefusesFloods: past each bound the server refuses what a
// client asks, whoever it authenticates as, and the client learns why.
func TestNATSConfRefusesFloods(t *testing.T) {
	natstest.RefusesFloods(t, runConfiguredServer(t), natstest.ClientBounds{
		MaxConnections: maxConnections, MaxSubscriptions: maxSubscriptions, MaxPayload: maxPayload,
		AccountConnections: maxAccountConnections,
		Connect:            map[string]any{"user": "gateway", "pass": "gateway-secret"},
		// Any subject: the payload bound is checked before permissions.
		Subject: "apm.metrics.shop.web", Inbox: "_INBOX_gateway",
	})
}

// TestNATSConfRefusesOversizedStreams: JetStream reserves each stream's
// byte cap against max_file_store, so provisioning streams whose caps add
// up past it fails with the server's reason instead of filling the disk:
// after Headroom's six streams, its replica bucket and the executor's lease
// bucket at their default caps,
// a stream taking the rest is accepted and one byte more is refused.
func TestNATSConfRefusesOversizedStreams(t *testing.T) {
	serverURL := runConfiguredServer(t)
	admin := connectAs(t, serverURL, "provision")
	ctx := context.Background()
	if err := admin.Provision(ctx); err != nil {
		t.Fatalf("provisioning at the default caps: %v", err)
	}
	defaults := bus.DefaultConfig()
	reserved, _ := bus.Reserved(defaults.Streams.Reservations(defaults.Prefix))
	rest := int64(maxFileStore) - reserved
	js := natstest.JetStream(t, admin)
	extra := jetstream.StreamConfig{Name: "EXTRA", Subjects: []string{"extra.>"}, MaxBytes: rest + 1, Storage: jetstream.FileStorage}
	if _, err := js.CreateStream(ctx, extra); err == nil || !strings.Contains(err.Error(), "insufficient") {
		t.Fatalf("a stream of %d bytes on top of Headroom's: %v, want insufficient resources", extra.MaxBytes, err)
	}
	extra.MaxBytes = rest
	if _, err := js.CreateStream(ctx, extra); err != nil {
		t.Fatalf("a stream of the %d bytes left: %v", rest, err)
	}
}

// TestNATSConfBoundsConsumers: an identity that may create consumers of
// its own (the gateway reads every stream through them) cannot pile them
// up on a stream past the per-stream bound, services' durables included.
func TestNATSConfBoundsConsumers(t *testing.T) {
	serverURL := runConfiguredServer(t)
	ctx := context.Background()
	if err := connectAs(t, serverURL, "provision").Provision(ctx); err != nil {
		t.Fatal(err)
	}
	js := natstest.JetStream(t, connectAs(t, serverURL, "gateway"))
	stream, err := js.Stream(ctx, "METRICS")
	if err != nil {
		t.Fatal(err)
	}
	var refused error
	for made := 0; made <= maxConsumers && refused == nil; made++ {
		_, refused = stream.CreateConsumer(ctx, jetstream.ConsumerConfig{InactiveThreshold: time.Hour})
	}
	if refused == nil || !strings.Contains(refused.Error(), "maximum consumers") {
		t.Fatalf("%d consumers created on METRICS without the bound's refusal (last error %v)", maxConsumers+1, refused)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Consumers != maxConsumers {
		t.Fatalf("METRICS holds %d consumers when the gateway is refused, want the bound %d", info.State.Consumers, maxConsumers)
	}
}

// TestNATSConfOneIdentityCannotTakeEveryConnection: max_connections counts
// the whole server, so without a bound per account one identity (the
// gateway's password, or any service's) could open every connection and
// lock every other service out of NATS. Each identity, flooding alone,
// is refused at its account's bound, well before the server's, and every
// other identity still connects.
func TestNATSConfOneIdentityCannotTakeEveryConnection(t *testing.T) {
	setPasswords(t)
	for _, flooder := range users {
		t.Run(flooder, func(t *testing.T) {
			serverURL := startConfigured(t, "nats.conf", func(*server.Options) {}).ClientURL()
			login := func(user string) map[string]any { return map[string]any{"user": user, "pass": user + "-secret"} }
			opened, refusal := 0, ""
			for opened < maxConnections+16 && refusal == "" {
				if c, refused := natstest.DialClient(t, serverURL, login(flooder)); c == nil {
					refusal = refused
				} else {
					opened++
				}
			}
			if opened > maxAccountConnections {
				t.Errorf("%s opened %d connections, more than its account's %d (then: %q)", flooder, opened, maxAccountConnections, refusal)
			}
			if !strings.Contains(strings.ToLower(refusal), "account active connections exceeded") {
				t.Errorf("%s refused after %d connections with %q, want its account's bound", flooder, opened, refusal)
			}
			for _, other := range users {
				if other == flooder {
					continue
				}
				if c, refused := natstest.DialClient(t, serverURL, login(other)); c == nil {
					t.Errorf("with %s's %d connections open, %s was refused: %q", flooder, opened, other, refused)
				}
			}
		})
	}
}

// TestNATSConfAccountBoundsFitTheServer: every account in nats.conf has a
// connection bound (an account added without one would let its identity
// take every connection again), and the bounds together fit within the
// server's max_connections, so even several stolen identities flooding at
// once leave every other account its slots. Raising one account's bound
// means raising max_connections with it.
func TestNATSConfAccountBoundsFitTheServer(t *testing.T) {
	setPasswords(t)
	opts, err := server.ProcessConfigFile("nats.conf")
	if err != nil {
		t.Fatalf("nats.conf: %v", err)
	}
	total := 0
	for _, acc := range opts.Accounts {
		n := acc.MaxActiveConnections()
		if n <= 0 {
			t.Errorf("account %s has no connection bound (%d), want one", acc.Name, n)
			continue
		}
		total += n
	}
	if total > opts.MaxConn {
		t.Errorf("the accounts' connection bounds add up to %d, more than max_connections %d", total, opts.MaxConn)
	}
}

// TestNATSConfServicesOutliveAGatewayConsumerFlood: JetStream counts a
// stream's consumers in the account holding it (HEADROOM), whoever asked
// for them through an import, so the per-stream bound is one pool for
// every identity, and the gateway's password (the identity browsers are
// nearest) can take every slot it may: each stream it reads, to the
// bound, with consumers that outlive it by an hour. The services must not
// need a free slot then: their durables are made by provisioning, their
// rebuilds read with direct gets and the collector's replica watch is on
// a bucket the gateway cannot touch. The whole pipeline runs through, and
// provisioning again (an upgrade) still succeeds. What the flood does
// starve is the dashboard's own reads, `collector replay` and durables
// new to a provisioning (more partitions), which README says.
func TestNATSConfServicesOutliveAGatewayConsumerFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	url := runConfiguredServer(t)
	ctx := context.Background()
	if err := connectAs(t, url, "provision").Provision(ctx); err != nil {
		t.Fatal(err)
	}
	js := natstest.JetStream(t, connectAs(t, url, "gateway"))
	for _, k := range []proto.Kind{proto.KindMetrics, proto.KindForecast, proto.KindAnomaly, proto.KindDecision, proto.KindScaling} {
		stream, err := js.Stream(ctx, k.Stream())
		if err != nil {
			t.Fatal(err)
		}
		// In memory: a slot is a slot whatever the consumer stores its
		// state in, and the server shuts down 1,285 file-backed ones in
		// some 14 s of the test's 24.
		var refused error
		for made := 0; made <= maxConsumers && refused == nil; made++ {
			_, refused = stream.CreateConsumer(ctx, jetstream.ConsumerConfig{InactiveThreshold: time.Hour, MemoryStorage: true})
		}
		if refused == nil || !strings.Contains(refused.Error(), "maximum consumers") {
			t.Fatalf("%s: %d consumers created without the bound's refusal (last error %v)", k.Stream(), maxConsumers+1, refused)
		}
	}
	start, ready := runPipeline(t, url, false)
	pipelineFlowed(t, url, start, ready)
	if err := connectAs(t, url, "provision").Provision(ctx); err != nil {
		t.Errorf("provisioning again with every slot taken: %v", err)
	}
}
