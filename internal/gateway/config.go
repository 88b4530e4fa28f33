package gateway

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/hostcheck"
)

// Config tunes the gateway. The zero value is not usable: start from
// DefaultConfig.
type Config struct {
	// AllowedOrigins lists the browser origins (scheme://host[:port]) allowed
	// to open a WebSocket besides the gateway's own host; "*" allows any.
	// Requests without an Origin header (non-browser clients) are allowed.
	AllowedOrigins []string
	// AllowedHosts lists the names (host, or host:port) a request's Host
	// header may carry besides localhost, 127.0.0.1 and [::1] on the
	// listening port; others get 403, so a DNS-rebinding page cannot read
	// the feed through a name it controls. "*" allows any host (behind a
	// proxy that checks it).
	AllowedHosts []string
	// Token, when set, is required as "Authorization: Bearer <token>" on
	// /ws and /api/v1/*, or on /ws (browsers cannot set headers on a
	// WebSocket) as the query parameter token=<token>, which /api/v1
	// refuses (a URL lands in logs and history); unset, the gateway
	// serves only on a loopback address (RequireTokenOn).
	Token string
	// ClientBuffer is how many live frames may wait for one client; a client
	// that lets more pile up is disconnected and counted as slow.
	ClientBuffer int
	// MaxHistory caps the messages one subscribe replays from history.
	MaxHistory int
	// MaxHistoryBytes caps the payload bytes one subscribe replays.
	MaxHistoryBytes int64
	// HistorySlack widens the stored-time start of a history scan: a message
	// is found if it was stored no earlier than HistorySlack before its event
	// time (plus the skew measured on the stream's newest message).
	HistorySlack time.Duration
	// HistoryConcurrency bounds history replays running at once, so a crowd
	// reconnecting together cannot flood the server.
	HistoryConcurrency int
	// HistoryPerClient bounds the history replays one WebSocket connection
	// runs at once (at most HistoryConcurrency), so that one connection
	// sending many subscribes cannot take every replay slot and keep the
	// other dashboards waiting: its further subscribes wait for its own
	// earlier replays (counted in headroom_gateway_history_queued_total,
	// bound "connection"), in no set order. The dashboard sends four at
	// once, five with a comparison and two more for a replay. At or above
	// HistoryConcurrency it cannot keep one connection from every slot:
	// New then logs a warning (so does HistoryPerAddr's).
	HistoryPerClient int
	// HistoryPerAddr, when set, bounds the history replays of the
	// connections of one client address at once (counted as MaxClientsPerAddr
	// counts: an IPv6 address with its /64, read behind TrustedProxies), so
	// that one client opening many connections cannot take every slot
	// either; bound "address" of headroom_gateway_history_queued_total.
	// 0 (the default): no bound. Behind a proxy not listed in
	// TrustedProxies every viewer has the proxy's address, and a bound here
	// would bound the replays of all of them.
	HistoryPerAddr int
	// MaxClients bounds open WebSocket connections.
	MaxClients int
	// MaxClientsPerAddr bounds the open WebSocket connections of one
	// client address (an IPv6 address with its /64), so one client cannot
	// take all MaxClients; past it a connection is refused with 429 (each
	// counted; an address's first refusal logged, then at most a summary
	// line a minute, refusalLog). 0 (the default): no limit. The client address is the TCP peer's, or, from
	// one of TrustedProxies, the one their forwarding header names: behind
	// a reverse proxy or an ingress (as deploy/kubernetes serves the
	// dashboard) not listed there every viewer has the proxy's address,
	// and a limit here would bound the viewers in all.
	MaxClientsPerAddr int
	// TrustedProxies lists the reverse proxies in front of the gateway
	// (CIDRs or addresses, config.ParseTrustedProxy): only from a peer
	// inside one of them is the ForwardedHeader read, right to left, for
	// the client whose connections MaxClientsPerAddr counts and whom the
	// logs name. Empty (the default): the TCP peer is the client.
	TrustedProxies []string
	// ForwardedHeader is the header the TrustedProxies append the
	// client's address to (config.ForwardedHeader): X-Forwarded-For (the
	// default) or Forwarded (RFC 7239, its for parameter); only this one
	// is read. A header that cannot be read leaves the peer as the
	// client, counted in headroom_gateway_forwarded_unreadable_total.
	ForwardedHeader string
	// MaxAPIRequests bounds the /api/v1/apps and /api/v1/fleet requests
	// served at once (each reads the newest message of every METRICS
	// subject, the fleet's of four more streams too); more are answered
	// 429 with Retry-After.
	MaxAPIRequests int
	// MaxSubscriptions bounds the subscriptions of one client.
	MaxSubscriptions int
	// WriteTimeout bounds one write to a client; a client that does not read
	// for that long is dropped.
	WriteTimeout time.Duration
	// FlushInterval is how long the writer lingers after a frame to gather
	// more into the same WebSocket message (0: write at once). Dashboards
	// do not notice 50 ms; the server saves a write per frame.
	FlushInterval time.Duration
	// PingInterval is how often the gateway pings each client; a client
	// silent for twice as long is dropped.
	PingInterval time.Duration
	// DigestGrid is the metrics grid of the history digest (see digest): a
	// history thinned at a step of at least this is served from memory
	// instead of the streams. 0 turns the digest off.
	DigestGrid time.Duration
	// DigestEventGrid is the digest's grid for forecasts, anomaly scores and
	// decisions that are not notable (notable ones are all kept).
	DigestEventGrid time.Duration
	// DigestKeep is how much event time the digest holds: the longest
	// window it serves.
	DigestKeep time.Duration
	// DigestMaxBytes bounds the digest's memory; past it every stream's
	// oldest hour is forgotten (those windows read the streams again).
	DigestMaxBytes int64

	origins string // comma-separated -gateway.allowed-origins, merged by Validate
	hosts   string // comma-separated -gateway.allowed-hosts, merged by Validate
	proxies string // comma-separated -gateway.trusted-proxies, merged by Validate
	// refusalEvery replaces refusalEvery when positive (tests).
	refusalEvery time.Duration
}

// DefaultConfig returns the settings used unless flags say otherwise.
func DefaultConfig() Config {
	return Config{
		ClientBuffer:       1024,
		MaxHistory:         250_000,
		MaxHistoryBytes:    96 << 20,
		HistorySlack:       time.Hour,
		HistoryConcurrency: 4,
		HistoryPerClient:   2,
		MaxClients:         1000,
		MaxClientsPerAddr:  0,
		ForwardedHeader:    config.HeaderXForwardedFor,
		MaxAPIRequests:     4,
		MaxSubscriptions:   16,
		WriteTimeout:       10 * time.Second,
		FlushInterval:      50 * time.Millisecond,
		PingInterval:       20 * time.Second,
		DigestGrid:         5 * time.Minute,
		DigestEventGrid:    30 * time.Minute,
		DigestKeep:         8 * 24 * time.Hour,
		DigestMaxBytes:     128 << 20,
	}
}

// RegisterFlags adds the gateway.* flags, with HEADROOM_GATEWAY_* fallbacks.
func (c *Config) RegisterFlags(f *cli.Flags) {
	d := DefaultConfig()
	f.String(&c.origins, "gateway.allowed-origins", strings.Join(c.AllowedOrigins, ","), "extra browser origins allowed on /ws, comma-separated (scheme://host:port, or *)")
	f.String(&c.hosts, "gateway.allowed-hosts", strings.Join(c.AllowedHosts, ","), "extra Host header names (host or host:port, or *) the dashboard answers besides localhost, 127.0.0.1 and [::1], comma-separated")
	f.String(&c.Token, "gateway.token", "", "bearer token required on /ws and /api/v1/apps, /api/v1/fleet and /api/v1/health (empty: none, allowed only while -http.addr is a loopback address)")
	f.Int(&c.ClientBuffer, "gateway.client-buffer", d.ClientBuffer, "live frames queued per client before it is cut as slow")
	f.Int(&c.MaxHistory, "gateway.max-history", d.MaxHistory, "most messages one subscribe replays")
	f.Int64(&c.MaxHistoryBytes, "gateway.max-history-bytes", d.MaxHistoryBytes, "most payload bytes one subscribe replays")
	f.Duration(&c.HistorySlack, "gateway.history-slack", d.HistorySlack, "how much earlier than its event time a message may have been stored")
	f.Int(&c.HistoryConcurrency, "gateway.history-concurrency", d.HistoryConcurrency, "history replays running at once")
	f.Int(&c.HistoryPerClient, "gateway.history-per-client", d.HistoryPerClient, "history replays one WebSocket connection runs at once (at most -gateway.history-concurrency); its further subscribes wait for them")
	f.Int(&c.HistoryPerAddr, "gateway.history-per-addr", d.HistoryPerAddr, "history replays the connections of one client address run at once, counted as -gateway.max-clients-per-addr counts (0: no bound)")
	f.Int(&c.MaxClients, "gateway.max-clients", d.MaxClients, "most WebSocket clients at once")
	f.Int(&c.MaxClientsPerAddr, "gateway.max-clients-per-addr", d.MaxClientsPerAddr, "most WebSocket clients at once from one address, an IPv6 /64 (429 beyond; 0: no limit): the TCP peer's, or the client -gateway.forwarded-header names from -gateway.trusted-proxies; behind a proxy not listed there every client has the proxy's address")
	f.String(&c.proxies, "gateway.trusted-proxies", strings.Join(c.TrustedProxies, ","), "reverse proxies in front of the gateway, comma-separated CIDRs or addresses: from these peers only, the right-most address that is not one of them in the header -gateway.forwarded-header names is the client -gateway.max-clients-per-addr counts and the logs name (empty: never read a forwarding header)")
	f.String(&c.ForwardedHeader, "gateway.forwarded-header", d.ForwardedHeader, "the header the proxies of -gateway.trusted-proxies append the client's address to, read right to left: X-Forwarded-For, or Forwarded (RFC 7239, its for= parameter); only this one is read, since a proxy passes the other on as the client wrote it")
	f.Int(&c.MaxAPIRequests, "gateway.max-api-requests", d.MaxAPIRequests, "/api/v1/apps and /api/v1/fleet requests served at once (429 beyond)")
	f.Int(&c.MaxSubscriptions, "gateway.max-subscriptions", d.MaxSubscriptions, "most subscriptions per client")
	f.Duration(&c.WriteTimeout, "gateway.write-timeout", d.WriteTimeout, "longest one write to a client may take")
	f.Duration(&c.FlushInterval, "gateway.flush-interval", d.FlushInterval, "how long to gather frames into one WebSocket message (0: none)")
	f.Duration(&c.PingInterval, "gateway.ping-interval", d.PingInterval, "interval of WebSocket pings")
	f.Duration(&c.DigestGrid, "gateway.digest-grid", d.DigestGrid, "metrics grid of the in-memory history digest that serves long windows (0: no digest)")
	f.Duration(&c.DigestEventGrid, "gateway.digest-event-grid", d.DigestEventGrid, "the digest's grid for forecasts, quiet anomaly scores and holds")
	f.Duration(&c.DigestKeep, "gateway.digest-keep", d.DigestKeep, "event time the history digest holds (its longest window)")
	f.Int64(&c.DigestMaxBytes, "gateway.digest-max-bytes", d.DigestMaxBytes, "memory bound of the history digest")
}

// ErrTokenRequired is returned by RequireTokenOn, and by New, when the
// dashboard would be served beyond loopback without a token.
var ErrTokenRequired = errors.New("the dashboard needs a token")

// RequireTokenOn says whether the gateway may serve the dashboard, its
// WebSocket and /api/v1 on the listen address addr (-http.addr,
// Deps.HTTPAddr) as configured: without Token only on a loopback address
// (hostcheck.Loopback; ":8081" and "0.0.0.0:8081" listen on every interface).
// The Host allowlist stops pages in browsers (DNS rebinding), not other
// clients, which may send any Host: anyone reaching the address would read
// every app's metrics, forecasts and decisions. An empty addr is not
// checked. The standalone gateway and the all-in-one call it before they
// start, so the refusal comes at once; New refuses too.
func (c Config) RequireTokenOn(addr string) error {
	if c.Token != "" || addr == "" || hostcheck.Loopback(addr) {
		return nil
	}
	return fmt.Errorf("%w: it listens on %s, which is not a loopback address; set -gateway.token / HEADROOM_GATEWAY_TOKEN, or listen on 127.0.0.1", ErrTokenRequired, addr)
}

// Validate merges the origins flag into AllowedOrigins and checks the settings.
func (c *Config) Validate() error {
	if c.origins != "" {
		c.AllowedOrigins = nil
		for _, o := range strings.Split(c.origins, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.AllowedOrigins = append(c.AllowedOrigins, o)
			}
		}
		c.origins = ""
	}
	if c.hosts != "" {
		c.AllowedHosts = hostcheck.Split(c.hosts)
		c.hosts = ""
	}
	if c.proxies != "" {
		c.TrustedProxies = hostcheck.Split(c.proxies)
		c.proxies = ""
	}
	var errs []error
	for _, e := range c.TrustedProxies {
		if _, err := config.ParseTrustedProxy(e); err != nil {
			errs = append(errs, fmt.Errorf("gateway.trusted-proxies (%s): %w", cli.EnvName("gateway.trusted-proxies"), err))
		}
	}
	if h, err := config.ForwardedHeader(c.ForwardedHeader); err != nil {
		errs = append(errs, fmt.Errorf("gateway.forwarded-header (%s): %w", cli.EnvName("gateway.forwarded-header"), err))
	} else {
		c.ForwardedHeader = h
	}
	if c.Token != "" {
		if err := config.CheckSecret("gateway.token (HEADROOM_GATEWAY_TOKEN)", c.Token); err != nil {
			errs = append(errs, err)
		}
	}
	if err := hostcheck.Check("gateway.allowed-hosts", c.AllowedHosts); err != nil {
		errs = append(errs, err)
	}
	for _, o := range c.AllowedOrigins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			errs = append(errs, fmt.Errorf("gateway.allowed-origins: %q is not scheme://host[:port]", o))
		}
	}
	positive := []struct {
		name string
		v    int64
	}{
		{"gateway.client-buffer", int64(c.ClientBuffer)},
		{"gateway.max-history", int64(c.MaxHistory)},
		{"gateway.max-history-bytes", c.MaxHistoryBytes},
		{"gateway.history-concurrency", int64(c.HistoryConcurrency)},
		{"gateway.history-per-client", int64(c.HistoryPerClient)},
		{"gateway.max-clients", int64(c.MaxClients)},
		{"gateway.max-api-requests", int64(c.MaxAPIRequests)},
		{"gateway.max-subscriptions", int64(c.MaxSubscriptions)},
		{"gateway.write-timeout", int64(c.WriteTimeout)},
		{"gateway.ping-interval", int64(c.PingInterval)},
	}
	for _, p := range positive {
		if p.v <= 0 {
			errs = append(errs, fmt.Errorf("%s=%d: must be positive", p.name, p.v))
		}
	}
	if c.HistoryPerAddr < 0 {
		errs = append(errs, fmt.Errorf("gateway.history-per-addr=%d: want 0 (no bound) or more", c.HistoryPerAddr))
	}
	if c.MaxClientsPerAddr < 0 {
		errs = append(errs, fmt.Errorf("gateway.max-clients-per-addr=%d: want 0 (no limit) or more", c.MaxClientsPerAddr))
	}
	if c.FlushInterval < 0 || c.FlushInterval > time.Second {
		errs = append(errs, fmt.Errorf("gateway.flush-interval=%v: want 0 to 1s", c.FlushInterval))
	}
	if c.DigestGrid < 0 {
		errs = append(errs, errors.New("gateway.digest-grid must not be negative"))
	}
	if c.DigestGrid > 0 && (c.DigestEventGrid < time.Millisecond || c.DigestKeep <= 0 || c.DigestMaxBytes <= 0) {
		errs = append(errs, fmt.Errorf("gateway.digest-event-grid=%v, gateway.digest-keep=%v and gateway.digest-max-bytes=%d must be positive with a digest",
			c.DigestEventGrid, c.DigestKeep, c.DigestMaxBytes))
	}
	if c.DigestGrid > 0 && c.DigestGrid < time.Millisecond {
		errs = append(errs, fmt.Errorf("gateway.digest-grid=%v: want 0 or at least 1ms", c.DigestGrid))
	}
	if c.HistorySlack < 0 {
		errs = append(errs, errors.New("gateway.history-slack must not be negative"))
	}
	return errors.Join(errs...)
}

// historyBoundNotes says which per-connection or per-address history
// bound cannot keep one client from taking every replay slot: one at or
// above gateway.history-concurrency. Such a bound is allowed, not
// refused: at a concurrency of 1 no bound can be below it, and a
// deployment with one viewer may want its subscribes all running at once,
// but it is said at start, as the bound reads as a protection it is not.
func (c Config) historyBoundNotes() []string {
	var notes []string
	if c.HistoryPerClient >= c.HistoryConcurrency {
		notes = append(notes, fmt.Sprintf("gateway.history-per-client=%d is not below gateway.history-concurrency=%d: one WebSocket connection can take every history replay slot and keep the other dashboards' history waiting",
			c.HistoryPerClient, c.HistoryConcurrency))
	}
	if c.HistoryPerAddr >= c.HistoryConcurrency {
		notes = append(notes, fmt.Sprintf("gateway.history-per-addr=%d is not below gateway.history-concurrency=%d: the connections of one client address can take every history replay slot",
			c.HistoryPerAddr, c.HistoryConcurrency))
	}
	return notes
}

// Redacted returns a copy fit for logging: the token replaced.
func (c Config) Redacted() Config {
	if c.Token != "" {
		c.Token = "REDACTED"
	}
	return c
}
