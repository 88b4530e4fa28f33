package allinone

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// internalUser is the embedded server's user for the all-in-one's own parts.
const internalUser = "headroom"

// internalInbox is the inbox prefix of the all-in-one's own parts: the
// observer may subscribe only to _INBOX.>.
const internalInbox = "_INBOX_" + internalUser

// observerUser is the user of every connection that brings no credentials:
// outside tools (gateway tail 'apm.>') may read every stream but the DLQ
// through consumers of their own, but subscribe to no subject of the
// streams, publish nothing on them, change no stream and touch no service's
// consumer.
const observerUser = "observer"

// The embedded server's accounts, as deploy/nats.conf's: streamsAccount
// holds the streams, the replica bucket and internalUser; readersAccount
// holds observerUser, with no JetStream of its own, and imports readAPI
// from streamsAccount under the same subjects (so outside tools need no
// API prefix).
//
// Why apart: NATS checks no permission on a request's reply subject, and
// JetStream publishes its answer there (an API answer, a directly read
// message). In the streams' account, an observer naming apm.decision.x.y
// or $KV.REPLICAS.x.y as its reply subject had the answer stored as a
// decision or another tier's replica state. Through an import the answer
// goes to a reply subject the server makes up in streamsAccount (_R_.…)
// and on to the one the observer named, in readersAccount, where no
// stream listens.
const (
	streamsAccount = "HEADROOM"
	readersAccount = "READERS"
)

// readAPI is the part of the JetStream API readersAccount imports: what a
// read through consumers of one's own, a direct read and a stream's state
// take, and no more (no stream or message changed, no consumer deleted, no
// acknowledgement: the observer's consumers acknowledge nothing, and Stop
// leaves them, spec.LeaveConsumer). stream marks the request answered by a
// stream of messages (a pull) rather than one.
var readAPI = []struct {
	subject string
	stream  bool
}{
	{"$JS.API.INFO", false},
	{"$JS.API.STREAM.NAMES", false},
	{"$JS.API.STREAM.LIST", false},
	{"$JS.API.STREAM.INFO.*", false},
	{"$JS.API.STREAM.MSG.GET.*", false},
	{"$JS.API.DIRECT.GET.>", false},
	{"$JS.API.CONSUMER.CREATE.>", false},
	{"$JS.API.CONSUMER.INFO.*.*", false},
	{"$JS.API.CONSUMER.MSG.NEXT.*.*", true},
}

// accountsConfig is the embedded server's accounts block: streamsAccount
// with JetStream, exporting readAPI to readersAccount, which imports it and
// holds at most MaxObserverConnections connections.
func accountsConfig() string {
	var exports, imports strings.Builder
	for _, a := range readAPI {
		response := "singleton"
		if a.stream {
			response = "stream"
		}
		fmt.Fprintf(&exports, "    { service: %q, response_type: %s, accounts: [%s] }\n", a.subject, response, readersAccount)
		fmt.Fprintf(&imports, "    { service: { account: %s, subject: %q } }\n", streamsAccount, a.subject)
	}
	return fmt.Sprintf("accounts {\n  %s {\n    jetstream: enabled\n    exports: [\n%s    ]\n  }\n  %s {\n    limits { max_connections: %d }\n    imports: [\n%s    ]\n  }\n}\n",
		streamsAccount, exports.String(), readersAccount, MaxObserverConnections, imports.String())
}

// account returns opts' account named name.
func account(opts *server.Options, name string) (*server.Account, error) {
	for _, a := range opts.Accounts {
		if a.Name == name {
			return a, nil
		}
	}
	return nil, fmt.Errorf("nats accounts: no account %s", name)
}

// adoptGlobalStreams moves the streams an older all-in-one kept in the
// global account (before streamsAccount) to streamsAccount's directory,
// where the server looks for them now. JetStream keeps each account's
// streams under <store>/jetstream/<account>; nothing is moved when
// streamsAccount already has a directory.
func adoptGlobalStreams(store string) error {
	old := filepath.Join(store, "jetstream", server.DEFAULT_GLOBAL_ACCOUNT)
	now := filepath.Join(store, "jetstream", streamsAccount)
	if _, err := os.Stat(old); err != nil {
		return nil // none, or unreadable: the server says which
	}
	if _, err := os.Stat(now); err == nil {
		return nil
	}
	if err := os.Rename(old, now); err != nil {
		return fmt.Errorf("move streams of the global account to %s: %w", streamsAccount, err)
	}
	return nil
}

// watchReserve is how many consumers per stream the embedded server allows
// beyond the services' durables and the gateway's history replays: the
// parts' own few watches (the gateway's live and digest follows, the replica
// bucket watches) and the observers' tails. It bounds what an observer can
// leave behind, not what it reads at once: a tail is one consumer.
const watchReserve = 64

// The NATS server's client bounds, the embedded server's and
// deploy/nats.conf's (deploy/natslimits_test.go holds the file to these):
// connections in all, subscriptions per connection, and message size. The
// embedded server shares the all-in-one's process, so a local client
// flooding it with connections would otherwise take the file descriptors
// the HTTP listeners need.
const (
	MaxConnections   = 1024
	MaxSubscriptions = 4096
	MaxPayload       = 256 << 10
)

// MaxObserverConnections bounds the connections of the observers (the
// embedded server's READERS account) together, well below MaxConnections:
// the all-in-one's parts connect over TCP like any observer, so observers
// taking every connection would lock a part out of reconnecting.
const MaxObserverConnections = 128

// maxConsumers is the embedded server's bound on the consumers of one
// stream (JetStream's per-stream consumer limit): every service durable with
// partitions partitions (counted as if all read one stream), historyReplays
// gateway history replays at once, and watchReserve.
func maxConsumers(partitions, historyReplays int) int {
	return len(bus.DurableNames(partitions)) + historyReplays + watchReserve
}

// natsReadyTimeout bounds the wait for the embedded server to accept
// connections once Start returned. Start opens the client listener itself,
// so the wait ends at once: it only guards a server that neither listens
// nor reports why.
const natsReadyTimeout = 15 * time.Second

// startNATS starts the embedded JetStream server on addr ("host:port"; port
// -1 or 0 for a random one) storing under dir. The all-in-one's parts log in
// as internalUser with password, a secret made for this run and never
// written anywhere; any other client is an observer. Signals stay with our
// main (NoSigs): the server never competes with it for SIGTERM.
// No stream holds more than consumers consumers (see maxConsumers), and
// the streams reserve at most what reserve (the streams and buckets
// provisioning makes, bus.StreamLimits.Reservations) and the streams in
// dir already reserve (see storeLimit), whatever the disk free.
//
// The server logs through log when logs is set (-nats.log), never exits
// the process (natsLogger), and a fatal error in its start (addr in use,
// a JetStream store it cannot open) fails startNATS as soon as Start
// returns, the server shut down. Start itself (which recovers the
// JetStream store) runs to its end: a shutdown racing it could leave
// JetStream enabled after the server stopped. A stop asked meanwhile
// (ctx) is the caller's to see once startNATS returns.
func startNATS(addr, dir string, logs bool, log zerolog.Logger, prefix string, partitions, consumers int, reserve []bus.Reservation, password string) (*server.Server, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("nats.addr %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("nats.addr %q: bad port", addr)
	}
	if port == 0 {
		port = -1
	}
	store := filepath.Join(dir, "jetstream")
	if err := adoptGlobalStreams(store); err != nil {
		return nil, err
	}
	opts := &server.Options{}
	if err := opts.ProcessConfigString(accountsConfig()); err != nil {
		return nil, fmt.Errorf("nats accounts: %w", err)
	}
	streams, err := account(opts, streamsAccount)
	if err != nil {
		return nil, err
	}
	readers, err := account(opts, readersAccount)
	if err != nil {
		return nil, err
	}
	opts = &server.Options{
		Accounts:   opts.Accounts,
		ServerName: "headroom",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   store,
		// 0 (no stream cap, no capped stream recovered): the server's
		// default, 75 % of the disk free.
		JetStreamMaxStore: storeLimit(reserve, recoveredCaps(store), defaultStore(dir)),
		NoSigs:            true,
		NoLog:             !logs,
		MaxPending:        256 << 20,
		MaxConn:           MaxConnections,
		MaxSubs:           MaxSubscriptions,
		MaxPayload:        MaxPayload,
		Users: []*server.User{
			{Username: internalUser, Password: password, Account: streams},
			{Username: observerUser, Password: randomSecret(), Permissions: observerPermissions(prefix, partitions), Account: readers},
		},
		NoAuthUser: observerUser,
		// The streams are provisioned without a consumer limit of their
		// own, so this one holds: an observer's consumers count against it.
		JetStreamLimits: server.JSLimitOpts{DefaultMaxConsumers: consumers},
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("nats server: %w", err)
	}
	nlog := &natsLogger{log: log, show: logs}
	s.SetLogger(nlog, false, false)
	s.Start()
	if err := nlog.err(); err != nil {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("nats server on %s: %w", addr, err)
	}
	if !s.ReadyForConnections(natsReadyTimeout) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("nats server on %s not ready in %v", addr, natsReadyTimeout)
	}
	return s, nil
}

// randomSecret returns 32 random bytes in hex.
func randomSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // cannot happen on a supported OS
	}
	return hex.EncodeToString(b)
}

// observerPermissions let a client read the streams (but the DLQ) through
// its own consumers, delivering on its inbox, and nothing else (within
// what readersAccount imports at all, readAPI): no
// subscription to the streams' subjects, no publish under prefix, no stream
// or bucket change, no service's durable consumer, no consumer deleted,
// paused or unpinned.
//
// What an observer can still do: create consumers of its own on every stream
// but the DLQ, durable ones included, with any name but a service durable's,
// pull or push (a push consumer delivers only to a literal subscriber, so
// only to the observers' _INBOX.>, which no stream stores); but none on the
// replica bucket, whose watches are the executor's and the collector's.
//
// NATS cannot refuse a durable by subject: the jetstream client (whose
// ordered consumers the tails use) creates ephemeral and durable consumers
// alike on $JS.API.CONSUMER.CREATE.<stream>.<name>[.<filter>], the durable
// name only in the body; and the legacy ephemeral-only form would not help,
// since an ephemeral with a long inactive_threshold is stored and recovered
// like a durable. Nor can a separate account bound it apart: consumers made
// through an imported JetStream API count against the account that holds
// the streams. So the bound is the server's per-stream consumer limit
// (startNATS, maxConsumers): an observer filling it leaves a bounded number
// of consumers on disk, and until they are gone (an ephemeral once idle for
// its inactive_threshold; a durable never, nor across a restart) new
// ordered consumers on that stream fail: the gateway's history replays and
// live follows, tails, and a restarting collector's resume from METRICS.
// The services' durables exist from provisioning on and keep working.
func observerPermissions(prefix string, partitions int) *server.Permissions {
	dlq := proto.StreamName(prefix, proto.KindDLQ)
	bucket := "KV_" + proto.ReplicaBucket(prefix)
	deny := []string{prefix + ".>", "$KV.>", "$JS.API.STREAM.CREATE.>", "$JS.API.STREAM.UPDATE.>",
		// The bucket's consumer slots are for the executor's and the
		// collector's watches: an observer filling them (maxConsumers)
		// would stop a restarted executor from watching replica state.
		"$JS.API.CONSUMER.CREATE." + bucket, "$JS.API.CONSUMER.CREATE." + bucket + ".>",
		// The DLQ holds refused input verbatim (a forged push's body, say): not for anyone passing by.
		"$JS.API.STREAM.MSG.GET." + dlq, "$JS.API.DIRECT.GET." + dlq, "$JS.API.DIRECT.GET." + dlq + ".>",
		"$JS.API.CONSUMER.CREATE." + dlq, "$JS.API.CONSUMER.CREATE." + dlq + ".>",
		"$JS.API.STREAM.DELETE.>", "$JS.API.STREAM.PURGE.>", "$JS.API.STREAM.MSG.DELETE.>", "$JS.API.CONSUMER.DURABLE.>",
		"$JS.API.CONSUMER.DELETE.>", "$JS.API.CONSUMER.PAUSE.>", "$JS.API.CONSUMER.UNPIN.>"}
	// A pull names the consumer in the seventh token
	// ($JS.API.CONSUMER.MSG.NEXT.<stream>.<name>), the other calls in the
	// sixth: an observer's pull from a durable would take its partition's pin.
	for _, d := range bus.DurableNames(partitions) {
		deny = append(deny, "$JS.API.CONSUMER.*.*."+d, "$JS.API.CONSUMER.*.*."+d+".>", "$JS.API.CONSUMER.*.*.*."+d)
	}
	// Nothing of the executor's lease bucket, which no reader uses, as
	// deploy/nats.conf's gateway: not its info, its keys' gets nor any
	// consumer API on it ($JS.API.CONSUMER.<op>.<stream>, a name or
	// filter after it, and a pull's MSG.NEXT.<stream>.<name>).
	leases := "KV_" + proto.LeaseBucket(prefix)
	deny = append(deny, "$JS.API.STREAM.INFO."+leases, "$JS.API.STREAM.MSG.GET."+leases,
		"$JS.API.DIRECT.GET."+leases, "$JS.API.DIRECT.GET."+leases+".>",
		"$JS.API.CONSUMER.*."+leases, "$JS.API.CONSUMER.*."+leases+".>", "$JS.API.CONSUMER.*.*."+leases+".>")
	return &server.Permissions{
		Publish: &server.SubjectPermission{
			Allow: []string{"$JS.API.INFO", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST", "$JS.API.STREAM.INFO.*",
				"$JS.API.STREAM.MSG.GET.*", "$JS.API.DIRECT.GET.>", "$JS.API.CONSUMER.CREATE.*.*", "$JS.API.CONSUMER.CREATE.*.*.>",
				"$JS.API.CONSUMER.INFO.*.*", "$JS.API.CONSUMER.MSG.NEXT.*.*", "$JS.FC.>"},
			Deny: deny,
		},
		// Its inbox only, not prefix.>: a push consumer delivers only while
		// a client subscribes to its deliver subject literally, and a
		// stream stores what is delivered on its subjects, so an observer
		// subscribed to apm.decision.x.y could have the server copy METRICS
		// into DECISIONS through a consumer of its own.
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}},
	}
}

// natsLogger is the embedded server's logger (server.Logger). Its lines go
// to log, at their level, when show is set, else nowhere; its first fatal
// error is recorded (err), shown or not, and never exits the process:
// nats-server's own logger calls os.Exit on Fatalf (its listen error when
// addr is in use), which would skip the all-in-one's closing of its
// listeners and data. The server returns from where it called Fatalf.
type natsLogger struct {
	log  zerolog.Logger
	show bool

	mu    sync.Mutex
	fatal error
}

// err returns the first fatal error the server logged, nil if none.
func (l *natsLogger) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal
}

func (l *natsLogger) line(level zerolog.Level, format string, v []any) {
	if l.show {
		l.log.WithLevel(level).Str("component", "nats").Msgf(format, v...)
	}
}

// Noticef logs at info.
func (l *natsLogger) Noticef(format string, v ...any) { l.line(zerolog.InfoLevel, format, v) }

// Warnf logs at warn.
func (l *natsLogger) Warnf(format string, v ...any) { l.line(zerolog.WarnLevel, format, v) }

// Errorf logs at error.
func (l *natsLogger) Errorf(format string, v ...any) { l.line(zerolog.ErrorLevel, format, v) }

// Fatalf records the error (the first one) and logs it at error.
func (l *natsLogger) Fatalf(format string, v ...any) {
	l.mu.Lock()
	if l.fatal == nil {
		l.fatal = fmt.Errorf(format, v...)
	}
	l.mu.Unlock()
	l.line(zerolog.ErrorLevel, format, v)
}

// Debugf logs at debug.
func (l *natsLogger) Debugf(format string, v ...any) { l.line(zerolog.DebugLevel, format, v) }

// Tracef logs at trace.
func (l *natsLogger) Tracef(format string, v ...any) { l.line(zerolog.TraceLevel, format, v) }
