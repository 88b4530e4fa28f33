package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/clientaddr"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/redact"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/web"
)

// readyPart names the gateway in the readiness gate.
const readyPart = "gateway"

// Gateway serves the dashboard, the WebSocket feed and the apps API. It only
// reads from the bus: ordered consumers, nothing durable, nothing published.
type Gateway struct {
	cfg     Config
	bus     *bus.Bus
	prefix  string
	log     zerolog.Logger
	ready   *service.Ready
	metrics *metrics
	up      websocket.Upgrader
	hub     hub
	histSem chan struct{} // the running history replays (Config.HistoryConcurrency)
	// histAddrs holds the running history replays of each client
	// address (Config.HistoryPerAddr).
	histAddrs addrSlots
	apiSem    chan struct{}         // places of the API requests that read the streams
	apiHook   func(context.Context) // tests: called by a request holding an apiSem place
	// recheckHook, in tests, replaces the health answer's wait before it
	// reads idle-looking consumers again.
	recheckHook func(context.Context) error
	// retryHook, in tests, replaces the wait before a stream's live or
	// digest consumer is tried again (retryWait).
	retryHook func(context.Context, time.Duration) error
	digest    *digest      // nil: every history reads the streams
	file      *config.File // the -config file, for tier order, modes, costs (nil: none)

	runCtx  context.Context // set by Run; clients derive their contexts from it
	running atomic.Bool
	nconns  atomic.Int64
	addrs   addrCounts // open connections per client address (Config.MaxClientsPerAddr)
	refusal refusalLog // the refusals by Config.MaxClientsPerAddr, logged
	// fwd reads a request's client behind Config.TrustedProxies;
	// forwardLog logs the forwarding headers it cannot read, by the
	// proxy's address (countedLog).
	fwd        clientaddr.Forwarding
	forwardLog *countedLog
	// hostLog and originLog log the requests refused for their Host and
	// the WebSockets refused for their Origin, by value; tokenLog those
	// refused for their token, by route and how the token came
	// (refuseToken); histFailLog the history reads that failed, by pass
	// and error; appsFailLog and fleetFailLog the /api/v1/apps and
	// /api/v1/fleet requests that could not read the streams, by error.
	// Each is counted in a metric, but a client (or a page) retrying in a
	// loop, or polling while the bus fails, would write a line per
	// request: each key's first is written, then a counted summary per
	// period (countedLog, swept by sweepLogs). Each kind has its own, so
	// that a flood of one (a rebinding page polling) cannot crowd out the
	// other (a real page missing from -gateway.allowed-origins).
	hostLog      *countedLog
	originLog    *countedLog
	tokenLog     *countedLog
	histFailLog  *countedLog
	appsFailLog  *countedLog
	fleetFailLog *countedLog
	clients      sync.WaitGroup
}

// New builds a gateway from cfg and d, and registers its routes on d.Mux:
// "/" (the dashboard), "/ws" (the feed), "/api/v1/apps", "/api/v1/fleet" and "/api/v1/health". Nothing runs
// until Run; until then /ws answers 503. It refuses d.HTTPAddr beyond
// loopback without cfg.Token (RequireTokenOn).
func New(cfg Config, d service.Deps) (*Gateway, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	if err := cfg.RequireTokenOn(d.HTTPAddr); err != nil {
		return nil, err
	}
	if d.Bus == nil {
		return nil, errors.New("gateway: no bus")
	}
	m, err := newMetrics(d.Reg)
	if err != nil {
		return nil, err
	}
	if err := d.Reg.Register(newStreamFill(d.Bus)); err != nil {
		return nil, fmt.Errorf("gateway metrics: %w", err)
	}
	// The consumers' lag gauges: in the all-in-one every consumer shares
	// this registry.
	bus.RegisterLag(d.Reg)
	g := &Gateway{
		cfg: cfg, bus: d.Bus, prefix: d.Bus.Prefix(),
		log: d.Log.With().Str("part", "gateway").Logger(), ready: d.Ready, metrics: m,
		hub:     hub{subs: map[*subscription]struct{}{}},
		histSem: make(chan struct{}, cfg.HistoryConcurrency),
		apiSem:  make(chan struct{}, cfg.MaxAPIRequests),
		file:    d.Config,
	}
	for _, note := range cfg.historyBoundNotes() {
		g.log.Warn().Msg(note)
	}
	g.digest = newDigest(cfg, m)
	if g.fwd, err = clientaddr.NewForwarding(cfg.TrustedProxies, cfg.ForwardedHeader); err != nil {
		return nil, fmt.Errorf("gateway config: %w", err)
	}
	every := refusalEvery
	if cfg.refusalEvery > 0 {
		every = cfg.refusalEvery
	}
	g.forwardLog = newCountedLog(every, refusedValues, zerolog.WarnLevel, forwardLogMsg+": a summary, unreadable counted since the last line (last_value the last header)")
	g.forwardLog.count = "unreadable"
	g.refusal = refusalLog{every: every, now: time.Now}
	// Each summary's message holds its first lines' message: a search for
	// one finds the other.
	g.hostLog = newCountedLog(every, refusedValues, zerolog.WarnLevel, "request for a foreign Host refused (DNS rebinding?): a summary, refused counted since the last line")
	g.originLog = newCountedLog(every, refusedValues, zerolog.WarnLevel, "websocket origin refused: a summary, refused counted since the last line")
	g.tokenLog = newCountedLog(every, refusedValues, zerolog.WarnLevel, "request with a missing or wrong token refused: a summary, refused counted since the last line")
	g.histFailLog = newCountedLog(every, refusedValues, zerolog.ErrorLevel, "history replay failed or catch-up read failed (counted_as names which): a summary, failed counted since the last line")
	g.appsFailLog = newCountedLog(every, refusedValues, zerolog.ErrorLevel, "list apps: a summary, failed counted since the last line")
	g.fleetFailLog = newCountedLog(every, refusedValues, zerolog.ErrorLevel, "fleet overview: a summary, failed counted since the last line")
	for _, c := range []*countedLog{g.histFailLog, g.appsFailLog, g.fleetFailLog} {
		c.count = "failed"
	}
	g.up = websocket.Upgrader{
		ReadBufferSize:  4 << 10,
		WriteBufferSize: 16 << 10,
		CheckOrigin:     g.checkOrigin,
	}
	if g.ready != nil {
		g.ready.Wait(readyPart)
	}
	if d.Mux != nil {
		g.Register(d.Mux)
	}
	g.log.Info().Interface("config", cfg.Redacted()).Msg("gateway configured")
	return g, nil
}

// Register adds the gateway's routes to mux (New does it for d.Mux).
func (g *Gateway) Register(mux *http.ServeMux) {
	mux.Handle("/", g.guard(web.Handler()))
	mux.Handle("/ws", g.guard(http.HandlerFunc(g.serveWS)))
	mux.Handle("GET /api/v1/apps", g.guard(http.HandlerFunc(g.serveApps)))
	mux.Handle("GET /api/v1/fleet", g.guard(http.HandlerFunc(g.serveFleet)))
	mux.Handle("GET /api/v1/health", g.guard(http.HandlerFunc(g.serveHealth)))
}

// Run consumes the streams live and serves clients until ctx ends, then
// disconnects every client (close code 1001), waits for them, and writes
// the summaries of the refusals and failures counted since their last
// line (flushLogs). Those that come after it returns, while the HTTP
// server shuts down (or, in the all-in-one, until the other parts have
// stopped), have their first line per key at once, their summaries when
// Flush is called.
func (g *Gateway) Run(ctx context.Context) error {
	runCtx, cancel := context.WithCancelCause(ctx)
	g.runCtx = runCtx
	swept := make(chan struct{})
	go func() { defer close(swept); g.sweepLogs(runCtx) }()
	err := g.runLive(runCtx, func() {
		g.running.Store(true)
		if g.ready != nil {
			g.ready.Set(readyPart)
		}
		g.log.Info().Msg("gateway live")
	})
	g.running.Store(false)
	cancel(errShutdown)
	<-swept
	done := make(chan struct{})
	go func() { g.clients.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		g.log.Warn().Msg("clients not closed in 5s")
	}
	// The HTTP server still served while the clients closed: the
	// refusals counted since the sweep's flush are written now.
	g.flushLogs(g.refusal.now())
	if err != nil && ctx.Err() != nil {
		return nil
	}
	return err
}

// serveWS checks the token, the origin and the client limits (in all and per
// address), upgrades and
// serves the connection until it ends.
func (g *Gateway) serveWS(w http.ResponseWriter, r *http.Request) {
	client, forwarded := g.client(r)
	if !g.checkToken(r, routeWS) {
		g.metrics.connections.WithLabelValues(connToken).Inc()
		g.refuseToken(w, r, routeWS, client, forwarded)
		return
	}
	if !g.checkOrigin(r) {
		g.metrics.connections.WithLabelValues(connOrigin).Inc()
		origin := quoted(r.Header.Get("Origin"))
		if ev, others := g.originLog.noteFrom(g.log, origin, fromClient(r.RemoteAddr, client, forwarded), time.Now()); ev != nil {
			ev = g.originLog.first(ev, others).Str("origin", origin).Str("remote", r.RemoteAddr)
			withClient(ev, client, forwarded).Msg("websocket origin refused")
		}
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	if !g.running.Load() {
		g.metrics.connections.WithLabelValues(connUnavailable).Inc()
		http.Error(w, "gateway starting", http.StatusServiceUnavailable)
		return
	}
	if g.nconns.Add(1) > int64(g.cfg.MaxClients) {
		g.nconns.Add(-1)
		g.metrics.connections.WithLabelValues(connLimit).Inc()
		http.Error(w, "too many clients", http.StatusServiceUnavailable)
		return
	}
	defer g.nconns.Add(-1)
	if lim := g.cfg.MaxClientsPerAddr; lim > 0 {
		if k, ok := addrKey(client); ok {
			if !g.addrs.take(k, lim) {
				g.metrics.connections.WithLabelValues(connAddrLimit).Inc()
				g.refusal.refused(g.log, k, client, r.RemoteAddr, lim)
				w.Header().Set("Retry-After", "10")
				http.Error(w, fmt.Sprintf("too many clients from %s: at most %d per address (gateway.max-clients-per-addr)", k, lim), http.StatusTooManyRequests)
				return
			}
			defer g.addrs.give(k)
		}
	}
	conn, err := g.up.Upgrade(w, r, nil)
	if err != nil {
		g.metrics.connections.WithLabelValues(connUpgrade).Inc()
		return // the upgrader has answered
	}
	g.metrics.connections.WithLabelValues(connAccepted).Inc()
	g.clients.Add(1)
	defer g.clients.Done()
	g.metrics.clients.Inc()
	defer g.metrics.clients.Dec()
	lc := g.log.With().Str("remote", r.RemoteAddr)
	if forwarded {
		lc = lc.Str("client", client.String())
	}
	log := lc.Logger()
	log.Debug().Msg("client connected")
	newClient(g, conn, log, r.URL.Query().Get("compress") == "gzip", client).serve()
	log.Debug().Msg("client disconnected")
}

// The forwarding headers that cannot be read are logged by the trusted
// proxy's address (countedLog: its first at once, then a counted summary
// a period), quoting the header's first forwardLogQuote bytes (quoted);
// the refusals and failures (countedLog) quote the values they log so
// too. forwardLogMsg is the first line's message, which the summaries'
// holds.
const (
	forwardLogQuote = 256
	forwardLogMsg   = "forwarding header from a trusted proxy holds an entry that is not an address: the proxy's address counts as the client"
)

// quoted returns a request header's value v as the log quotes it: its
// first forwardLogQuote bytes, cut at valid UTF-8, and its length when
// longer (a header may be up to the server's 1 MiB).
func quoted(v string) string { return redact.Clip(v, forwardLogQuote) }

// client is the address r counts as (Config.TrustedProxies): its TCP
// peer (the zero address when it is not one, a Unix socket's), or, when
// the peer is a trusted proxy, the client its forwarding header names;
// forwarded says it is the latter. A header from a trusted proxy that
// cannot be read leaves the peer, counted in
// headroom_gateway_forwarded_unreadable_total and logged by the proxy's
// address (forwardLog): its first at once, then a counted summary a
// period, naming the last header (last_value).
func (g *Gateway) client(r *http.Request) (client netip.Addr, forwarded bool) {
	peer, a, forwarded, readable := g.fwd.Resolve(r.RemoteAddr, r.Header)
	if !readable {
		g.metrics.forwardUnreadable.Inc()
		value := quoted(strings.Join(r.Header.Values(g.fwd.Header), ", "))
		if ev, others := g.forwardLog.noteValue(g.log, peer.String(), from{remote: r.RemoteAddr}, value, time.Now()); ev != nil {
			if !others {
				ev = ev.Str("counted_as", peer.String())
			}
			g.forwardLog.first(ev, others).Str("remote", r.RemoteAddr).Str("header", g.fwd.Header).Str("value", value).Msg(forwardLogMsg)
		}
	}
	if forwarded {
		return a, true
	}
	return peer, false
}

// sweepLogs writes, every refusal interval until ctx ends, the
// summaries of the refusals and failures counted since their last line
// whose key stopped coming (refusalLog.sweep, countedLog.sweep), and at
// the end every summary still due (flushLogs): without it a client's
// refusals after its first line would be written only if another came.
// Run flushes again once its clients have closed.
func (g *Gateway) sweepLogs(ctx context.Context) {
	t := time.NewTicker(g.refusal.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			g.flushLogs(g.refusal.now())
			return
		case <-t.C:
			now := g.refusal.now()
			g.refusal.sweep(g.log, now)
			for _, c := range g.countedLogs() {
				c.sweep(g.log, now)
			}
		}
	}
}

// countedLogs are the gateway's countedLogs but the refusalLog's.
func (g *Gateway) countedLogs() []*countedLog {
	return []*countedLog{g.hostLog, g.originLog, g.tokenLog, g.histFailLog, g.appsFailLog, g.fleetFailLog, g.forwardLog}
}

// flushLogs writes every summary of the refusal and failure logs not yet
// written (flushAll), as the gateway stops.
func (g *Gateway) flushLogs(now time.Time) {
	g.refusal.flushAll(g.log, now)
	for _, c := range g.countedLogs() {
		c.flushAll(g.log, now)
	}
}

// Flush writes the summaries of the refusals and failures counted since
// Run wrote its own (flushLogs): the gateway's handlers serve as long as
// the HTTP server does, after Run has returned. It is a service.Flusher:
// service.Main and the all-in-one call it once the HTTP server has
// stopped.
func (g *Gateway) Flush() { g.flushLogs(g.refusal.now()) }

var _ service.Flusher = (*Gateway)(nil)

// admitAPI takes one of the Config.MaxAPIRequests places for a request to
// route (apps, fleet), or answers 429 with Retry-After and counts the
// refusal: these requests read a message per series, and a crowd of them
// would load the server as much as the pipeline does. The caller calls
// release when it is done.
func (g *Gateway) admitAPI(ctx context.Context, w http.ResponseWriter, route string) (release func(), ok bool) {
	select {
	case g.apiSem <- struct{}{}:
	default:
		g.metrics.apiRefused.WithLabelValues(route).Inc()
		g.metrics.apiRequests.WithLabelValues(route, resultLimit).Inc()
		w.Header().Set("Retry-After", "1")
		http.Error(w, fmt.Sprintf("%d API requests in progress, the limit gateway.max-api-requests; retry later", g.cfg.MaxAPIRequests),
			http.StatusTooManyRequests)
		return nil, false
	}
	if g.apiHook != nil {
		g.apiHook(ctx)
	}
	return func() { <-g.apiSem }, true
}

func version() string { return service.Version }

func nowMillis() int64 { return time.Now().UnixMilli() }
