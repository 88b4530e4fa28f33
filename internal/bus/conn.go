package bus

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/redact"
)

// Bus is a connection to NATS with JetStream, bound to one subject prefix.
// It is safe for concurrent use.
type Bus struct {
	cfg     Config
	nc      *nats.Conn
	js      jetstream.JetStream
	log     zerolog.Logger
	metrics *metrics
	// retryLog and deadLetterLog log what happens to single messages (a
	// retry, a dead letter), each at most perMsgBurst lines in each
	// perMsgPeriod: a flood of failing messages is counted
	// (headroom_bus_handled_total, headroom_bus_dead_letters_total) and
	// stored (the DLQ), and the log shows examples. Apart, so a storm of
	// retries does not hide the first dead letter.
	retryLog, deadLetterLog zerolog.Logger

	groupMu sync.Mutex
	groups  map[string]*member // this process's group members, by service

	partitions partitionHealth // failing partition workers, for readiness

	refused *consumerRefusals // streams the server refused consumers on
	async   *asyncErrors      // the server's refusals of publishes, as they arrive
	inbox   *inboxRefusals    // the server's refusal of this client's inbox, if it came
}

// Connect dials NATS and keeps reconnecting forever with backoff, logging each
// disconnect and reconnect. It returns at once, connected or not: a service
// whose NATS is unreachable still serves /healthz and /readyz (which names
// the reason) while WaitConnected retries.
func Connect(ctx context.Context, cfg Config, log zerolog.Logger, reg prometheus.Registerer) (*Bus, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bus config: %w", err)
	}
	refused := &consumerRefusals{streams: map[string]error{}}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := newMetrics(reg)
	async := newAsyncErrors()
	async.metrics = m
	inbox := &inboxRefusals{prefix: cfg.inboxPrefix() + "."}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(250*time.Millisecond, time.Second),
		nats.CustomReconnectDelay(func(attempts int) time.Duration {
			d := time.Duration(attempts) * 250 * time.Millisecond
			return min(d, 5*time.Second)
		}),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err == nil || nc.IsDraining() || nc.IsClosed() {
				log.Debug().Msg("nats connection closed")
				return
			}
			log.Warn().Err(err).Msg("nats disconnected")
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			// Not ConnectedUrlRedacted: it hides a password, not a token
			// given as the user (nats://TOKEN@host).
			log.Info().Str("url", redact.URL(nc.ConnectedUrl())).Msg("nats reconnected")
		}),
		nats.ErrorHandler(func(_ *nats.Conn, s *nats.Subscription, err error) {
			refused.see(err)
			inbox.see(err)
			async.handle(log, s, err)
		}),
	}
	auth, err := cfg.ClientOptions()
	if err != nil {
		return nil, err
	}
	opts = append(opts, auth...)
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		// The client's parse error quotes the URL: password and all.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			ue.URL = redact.URLs(ue.URL)
		}
		return nil, fmt.Errorf("connect %s: %w", redact.URLs(cfg.URL), err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096), jetstream.WithDefaultTimeout(apiTimeout),
		jetstream.WithPublishAsyncTimeout(asyncPublishTimeout),
		// An async publish is counted by its outcome, as Publish's is:
		// published once the stream acknowledged it, failed once it
		// failed (an error answer, a lost connection; a refusal, which
		// the server answers with nothing, as it comes), whoever waits
		// on its future, if anyone does.
		jetstream.WithPublishAsyncAckHandler(async.stored), jetstream.WithPublishAsyncErrHandler(async.failed))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	RegisterLag(reg) // every service exports its consumers' lag
	return &Bus{cfg: cfg, nc: nc, js: js, log: log, metrics: m, groups: map[string]*member{}, refused: refused, async: async, inbox: inbox,
		retryLog:      log.Sample(&zerolog.BurstSampler{Burst: perMsgBurst, Period: perMsgPeriod}),
		deadLetterLog: log.Sample(&zerolog.BurstSampler{Burst: perMsgBurst, Period: perMsgPeriod})}, nil
}

// asyncPublishTimeout is how long an async publish waits for its
// acknowledgement: one that gets none (a subject the server refuses the
// user, a lost server) fails after it instead of waiting forever.
var asyncPublishTimeout = 20 * time.Second

// apiTimeout bounds each JetStream API call of the bus that its context
// does not bound sooner: nats.go's 5 s default was exceeded by consumer
// creations and direct gets on a loaded 2-core machine under -race, which
// failed a service's start.
const apiTimeout = 20 * time.Second

// The per-message lines logged: at most perMsgBurst in each perMsgPeriod.
const (
	perMsgBurst  = 10
	perMsgPeriod = 10 * time.Second
)

// WaitConnected waits for the connection to be up, logging a warning with the
// reason every warnEvery meanwhile. It returns ctx's error if ctx ends first.
// Once connected it checks that the server lets the client subscribe to its
// inbox, where every reply comes, and returns ErrInboxRefused, which says to
// set -nats.inbox-prefix (or, where one is set, that it is refused), if
// not: each request would only time out. The check holds under a ctx
// without a deadline too (a signal context), bounded by inboxCheckTimeout.
func (b *Bus) WaitConnected(ctx context.Context, warnEvery time.Duration) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	lastWarn := start
	for !b.nc.IsConnected() {
		select {
		case <-ctx.Done():
			// Why not connected (the last connection error) and that
			// the wait ran out.
			if err := b.ConnErr(); err != nil {
				return fmt.Errorf("%w: %w", err, ctx.Err())
			}
			return nil // connected at the deadline
		case now := <-tick.C:
			if now.Sub(lastWarn) >= warnEvery {
				lastWarn = now
				b.log.Warn().Err(b.ConnErr()).Str("url", redact.URLs(b.cfg.URL)).Dur("waited", now.Sub(start).Round(time.Second)).Msg("nats unreachable, retrying")
			}
		}
	}
	return b.checkInbox(ctx)
}

// ConnErr returns nil while connected, else why not.
func (b *Bus) ConnErr() error {
	if b.nc.IsConnected() {
		return nil
	}
	if err := b.nc.LastError(); err != nil {
		return fmt.Errorf("not connected to %s: %w", redact.URLs(b.cfg.URL), err)
	}
	return fmt.Errorf("not connected to %s", redact.URLs(b.cfg.URL))
}

// LastError returns the last error the server reported on the connection
// (a permissions violation, say), or nil. A publish the server refuses is
// only dropped, so its future fails by timing out; this says why.
func (b *Bus) LastError() error { return b.nc.LastError() }

// Prefix returns the subject prefix.
func (b *Bus) Prefix() string { return b.cfg.Prefix }

// Config returns the configuration the bus was connected with (test
// infrastructure dials a second connection as the same user with it).
func (b *Bus) Config() Config { return b.cfg }

// PendingPublishes counts the asynchronous publishes not yet acknowledged.
func (b *Bus) PendingPublishes() int { return b.js.PublishAsyncPending() }

// Abort closes the connection at once, with no drain: what the server and
// the other members see when the process is killed (tests use it as kill -9).
func (b *Bus) Abort() { b.nc.Close() }

// ServerName names the NATS server the connection is on.
func (b *Bus) ServerName() string { return b.nc.ConnectedServerName() }

// Connected reports whether the connection is up (for /readyz).
func (b *Bus) Connected() bool { return b.nc.IsConnected() }

// Close waits for outstanding async publishes (up to timeout), then drains the
// connection: subscriptions stop, in-flight messages finish, the connection
// closes. A timeout of 0 waits for no acknowledgement (a caller whose
// publishes the server refused: theirs would never come) and drains for at
// most a second. The refusals not logged yet are counted in one line.
func (b *Bus) Close(timeout time.Duration) error {
	defer b.async.flush(b.log)
	if timeout > 0 {
		select {
		case <-b.js.PublishAsyncComplete():
		case <-time.After(timeout):
			b.log.Warn().Int("pending", b.js.PublishAsyncPending()).Msg("closing with publishes not acknowledged")
		}
	} else {
		timeout = time.Second
	}
	if !b.nc.IsConnected() {
		// Never connected, or reconnecting: there is nothing to drain
		// (what waits in the reconnect buffer cannot be sent).
		b.nc.Close()
		return nil
	}
	closed := make(chan struct{})
	b.nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := b.nc.Drain(); err != nil {
		b.nc.Close()
		return fmt.Errorf("drain: %w", err)
	}
	select {
	case <-closed:
	case <-time.After(timeout):
		b.nc.Close()
	}
	return nil
}

// ClientOptions are the NATS client options that authenticate as cfg's
// identity (credentials, nkey, user, token) and set its TLS. Connect uses
// them; test infrastructure (natstest) opens a raw connection as the same
// user with them.
func (cfg Config) ClientOptions() ([]nats.Option, error) {
	var opts []nats.Option
	switch {
	case cfg.CredsFile != "":
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	case cfg.NKeyFile != "":
		o, err := nats.NkeyOptionFromSeed(cfg.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("nkey %s: %w", cfg.NKeyFile, err)
		}
		opts = append(opts, o)
	case cfg.User != "":
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	case cfg.Token != "":
		opts = append(opts, nats.Token(cfg.Token))
	}
	if cfg.InboxPrefix != "" {
		opts = append(opts, nats.CustomInboxPrefix(cfg.InboxPrefix))
	}
	if cfg.TLSCA != "" {
		opts = append(opts, nats.RootCAs(cfg.TLSCA))
	}
	if cfg.TLSCert != "" {
		opts = append(opts, nats.ClientCert(cfg.TLSCert, cfg.TLSKey))
	}
	return opts, nil
}
