package bus

import (
	"errors"
	"fmt"
	"time"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/redact"
	"github.com/headroomhq/headroom/proto"
)

// Config says how to reach NATS and how to shape the streams.
type Config struct {
	URL string
	// Name is the client name shown by the server (the service name).
	Name string
	// Prefix is the first subject token (proto.DefaultPrefix unless set).
	Prefix string

	// Authentication: at most one of CredsFile, NKeyFile, User/Password or Token.
	CredsFile string
	NKeyFile  string
	User      string
	Password  string
	Token     string

	// TLS: a CA to trust and optionally a client certificate.
	TLSCA   string
	TLSCert string
	TLSKey  string

	// InboxPrefix is the first token of the subjects this client receives
	// replies and consumer deliveries on (NATS's own default, "_INBOX",
	// when empty). deploy/nats.conf lets each user subscribe only to
	// _INBOX_<user>.>, so no service can read, or acknowledge, another's
	// deliveries: run each service with its own.
	InboxPrefix string

	// GroupCheck is how often a group member asks which members are alive
	// (0: 2s); a member that dies is noticed within it.
	GroupCheck time.Duration

	// Streams shapes every stream created by EnsureStreams.
	Streams StreamLimits
	// Provision makes a service create or update the streams and the
	// replica bucket and create the services' durables at start
	// (Bus.Provision). Off by default: services only wait for the streams
	// (WaitStreams), and a provisioning identity creates them.
	Provision bool
}

// StreamLimits bound the recorded streams.
type StreamLimits struct {
	// MaxAge drops messages older than this (by storage time); 0 keeps them.
	MaxAge time.Duration
	// MaxBytes caps each stream's size; -1 for no cap.
	MaxBytes int64
	// Replicas is the JetStream replication factor (1 on a single server).
	Replicas int
	// Duplicates is the window in which a repeated Nats-Msg-Id is dropped.
	Duplicates time.Duration
	// Memory stores streams in memory instead of files (tests, benchmarks).
	Memory bool
	// Partitions is how many partitions the partitioned streams (metrics,
	// forecasts, anomalies, decisions) hash apps into: the most members of
	// one service that can share the work.
	Partitions int
	// MaxMsgsPerSeries caps the ticks METRICS keeps of one series (one
	// app's tier: a stored subject), and the scores ANOMALIES keeps (one
	// per tick); past it the series' own oldest goes, so a series ticking
	// faster than any scrape or simulation does (a push flood) discards
	// its own history, not every other app's as the byte cap's
	// discard-old would. -1 for no cap. The default,
	// DefaultMaxMsgsPerSeries, keeps more than the stages' two weeks of
	// lookback for a series ticking every 5 s or slower.
	MaxMsgsPerSeries int64
	// ReplicaMaxBytes caps the replica bucket. It holds one state per tier,
	// each counted at ReplicaEntryMax, so the default's 64 MiB is room for
	// 52,000 tiers, five times limits.max_series's default; a new key past
	// it is refused with an error, and what is stored stays and may change.
	ReplicaMaxBytes int64
}

// DefaultMaxMsgsPerSeries is StreamLimits.MaxMsgsPerSeries's default:
// 300,000 ticks, 17 days of a series at a 5 s tick and 52 at the default
// 15 s scrape and simulation tick (more than the default 15 days of
// -stream.max-age, so an ordinary series never reaches it), about 100 MB
// of METRICS at the 345 B a stored tick of 7 metrics takes: one series
// pushed as fast as a push token may holds at most a twentieth of the
// default 2 GiB.
const DefaultMaxMsgsPerSeries = 300_000

// MaxMsgsPerSeriesUsage describes -stream.max-msgs-per-series, which the
// services and the all-in-one both take.
const MaxMsgsPerSeriesUsage = "ticks METRICS (and scores ANOMALIES) keeps of one app's tier, past which that tier's oldest go (a push flood discards its own history, not other apps'); -1: none"

// MinMaxMsgsPerSeries is the smallest per-series cap Validate accepts:
// 21 days of a series at a 15-minute tick (under about 1,350 even such a
// series would keep less than the forecaster's two weeks). The cap bounds
// one series, not one app: an app of many tiers (limits.max_series_per_app)
// can still fill the stream at its byte cap.
const MinMaxMsgsPerSeries = 2_000

// LeaseMaxBytes caps the executor's lease bucket: half the replica
// bucket's. It holds at most a lease per tier, and the marker a release
// leaves for a minute, each well under half a replica state's room; past
// the cap a lease cannot be taken, and no change is made.
func (l StreamLimits) LeaseMaxBytes() int64 { return l.ReplicaMaxBytes / 2 }

// DefaultConfig returns settings that work against a local server.
func DefaultConfig() Config {
	return Config{
		URL:        "nats://127.0.0.1:4222",
		Prefix:     proto.DefaultPrefix,
		GroupCheck: 2 * time.Second,
		Streams: StreamLimits{
			MaxAge:     15 * 24 * time.Hour,
			MaxBytes:   2 << 30,
			Replicas:   1,
			Duplicates: 10 * time.Minute,
			Partitions: proto.DefaultPartitions,

			MaxMsgsPerSeries: DefaultMaxMsgsPerSeries,
			ReplicaMaxBytes:  64 << 20,
		},
	}
}

// RegisterFlags adds the nats.* and subject.prefix flags with environment
// fallbacks: a service's, RegisterConnectionFlags' and -nats.provision.
func (c *Config) RegisterFlags(f *cli.Flags) {
	c.RegisterConnectionFlags(f)
	f.Bool(&c.Provision, "nats.provision", false, "create or update the streams, the replica bucket and the services' durables at start (needs a provisioning user; otherwise wait for them)")
}

// RegisterConnectionFlags adds the flags that say how to connect and what
// the streams hold, without -nats.provision: for the commands that
// provision by what they are ("headroom provision") or never do (a replay).
func (c *Config) RegisterConnectionFlags(f *cli.Flags) {
	d := DefaultConfig()
	f.String(&c.URL, "nats.url", d.URL, "NATS server URL(s), comma-separated")
	f.String(&c.Prefix, "subject.prefix", d.Prefix, "first token of every subject")
	f.String(&c.CredsFile, "nats.creds", "", "NATS credentials file")
	f.String(&c.NKeyFile, "nats.nkey", "", "NATS nkey seed file")
	f.String(&c.User, "nats.user", "", "NATS user")
	f.String(&c.Password, "nats.password", "", "NATS password")
	f.String(&c.Token, "nats.token", "", "NATS token")
	f.String(&c.TLSCA, "nats.tls.ca", "", "CA certificate to trust for NATS TLS")
	f.String(&c.TLSCert, "nats.tls.cert", "", "client certificate for NATS TLS")
	f.String(&c.TLSKey, "nats.tls.key", "", "client key for NATS TLS")
	f.String(&c.InboxPrefix, "nats.inbox-prefix", "", "first token of this client's reply and delivery subjects (default _INBOX; deploy/nats.conf wants _INBOX_<nats.user>)")
	f.Duration(&c.Streams.MaxAge, "stream.max-age", d.Streams.MaxAge, "drop recorded messages older than this")
	f.Int64(&c.Streams.MaxBytes, "stream.max-bytes", d.Streams.MaxBytes, "cap on each stream's size in bytes (-1: none)")
	f.Int(&c.Streams.Replicas, "stream.replicas", d.Streams.Replicas, "stream replication factor")
	f.Int64(&c.Streams.MaxMsgsPerSeries, "stream.max-msgs-per-series", d.Streams.MaxMsgsPerSeries, MaxMsgsPerSeriesUsage)
	f.Int64(&c.Streams.ReplicaMaxBytes, "stream.replica-max-bytes", d.Streams.ReplicaMaxBytes, "cap on the replica bucket's size in bytes (one state per tier)")
	f.Int(&c.Streams.Partitions, "stream.partitions", d.Streams.Partitions, "partitions per partitioned stream: the most members of one service that share the work (set by provisioning)")
	f.Duration(&c.Streams.Duplicates, "stream.dedupe-window", d.Streams.Duplicates, "window in which repeated message ids are dropped")
}

// Validate checks the settings.
func (c Config) Validate() error {
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("nats.url is empty"))
	}
	if err := proto.CheckPrefix(c.Prefix); err != nil {
		errs = append(errs, err)
	}
	auth := 0
	for _, s := range []string{c.CredsFile, c.NKeyFile, c.User, c.Token} {
		if s != "" {
			auth++
		}
	}
	if auth > 1 {
		errs = append(errs, errors.New("set at most one of nats.creds, nats.nkey, nats.user, nats.token"))
	}
	if c.Password != "" && c.User == "" {
		errs = append(errs, errors.New("nats.password needs nats.user"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("nats.tls.cert and nats.tls.key go together"))
	}
	if c.InboxPrefix != "" && !validInboxPrefix(c.InboxPrefix) {
		errs = append(errs, fmt.Errorf("nats.inbox-prefix %q: want one token of letters, digits, _ and -", c.InboxPrefix))
	}
	if c.Streams.Replicas < 1 || c.Streams.Replicas > 5 {
		errs = append(errs, fmt.Errorf("stream.replicas=%d: want 1..5", c.Streams.Replicas))
	}
	if c.GroupCheck != 0 && c.GroupCheck < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("group check %s: want at least 100ms", c.GroupCheck))
	}
	if c.Streams.Partitions < 1 || c.Streams.Partitions > proto.MaxPartitions {
		errs = append(errs, fmt.Errorf("stream.partitions=%d: want 1..%d", c.Streams.Partitions, proto.MaxPartitions))
	}
	if c.Streams.Duplicates <= 0 {
		errs = append(errs, errors.New("stream.dedupe-window must be positive"))
	}
	if n := c.Streams.MaxMsgsPerSeries; n != -1 && n < MinMaxMsgsPerSeries {
		errs = append(errs, fmt.Errorf("stream.max-msgs-per-series=%d: want -1 (none) or at least %d", n, MinMaxMsgsPerSeries))
	}
	if c.Streams.ReplicaMaxBytes < replicaCap(1) {
		errs = append(errs, fmt.Errorf("stream.replica-max-bytes=%d: want at least %d (room for one key)", c.Streams.ReplicaMaxBytes, replicaCap(1)))
	}
	return errors.Join(errs...)
}

// validInboxPrefix reports whether p is one subject token of [A-Za-z0-9_-].
func validInboxPrefix(p string) bool {
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return p != ""
}

// Redacted returns a copy fit for logging: secrets replaced.
func (c Config) Redacted() Config {
	if c.Password != "" {
		c.Password = redact.Mask
	}
	if c.Token != "" {
		c.Token = redact.Mask
	}
	c.URL = redact.URLs(c.URL)
	return c
}

// groupCheck is GroupCheck with its default.
func (c Config) groupCheck() time.Duration {
	if c.GroupCheck == 0 {
		return 2 * time.Second
	}
	return c.GroupCheck
}
