package gateway

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// The results of an /api/v1 request (headroom_gateway_api_requests_total).
const (
	resultOK          = "ok"
	resultToken       = "token"
	resultLimit       = "limit"
	resultUnavailable = "unavailable"
	resultCanceled    = "canceled"
)

// The results of a WebSocket connection attempt
// (headroom_gateway_connections_total; connHost counts every request
// refused for its Host, pages and API too).
const (
	connAccepted    = "accepted"
	connOrigin      = "origin"
	connToken       = "token"
	connLimit       = "limit"
	connAddrLimit   = "addr_limit"
	connUnavailable = "unavailable"
	connUpgrade     = "upgrade"
	connHost        = "host"
)

// connResults are every result headroom_gateway_connections_total counts.
var connResults = []string{connAccepted, connOrigin, connToken, connLimit, connAddrLimit, connUnavailable, connUpgrade, connHost}

// apiResults are the results each /api/v1 route can count: a fixed set
// of series (health neither queues nor fails: its answer reports what it
// could not read).
var apiResults = map[string][]string{
	"apps":   {resultOK, resultToken, resultLimit, resultUnavailable, resultCanceled},
	"fleet":  {resultOK, resultToken, resultLimit, resultUnavailable, resultCanceled},
	"health": {resultOK, resultToken},
}

// The passes of a history read (headroom_gateway_history_failures_total).
const (
	passHistory = "history"
	passCatchUp = "catchup"
)

// The bounds a history replay may wait on for a slot
// (headroom_gateway_history_queued_total), in the order it takes them.
const (
	boundConnection = "connection" // Config.HistoryPerClient
	boundAddress    = "address"    // Config.HistoryPerAddr
	boundGateway    = "gateway"    // Config.HistoryConcurrency
)

// metrics are the gateway's Prometheus series.
type metrics struct {
	clients       prometheus.Gauge
	subscriptions prometheus.Gauge
	connections   *prometheus.CounterVec
	slowClients   prometheus.Counter
	liveMsgs      prometheus.Counter
	framesSent    prometheus.Counter
	bytesSent     prometheus.Counter
	historyMsgs   prometheus.Counter
	historyTrunc  prometheus.Counter
	// historyCatchUps counts passes that read again the live messages a
	// subscription could not hold while its history was sent.
	historyCatchUps prometheus.Counter
	// historyQueued counts history replays that waited for a slot, by
	// the bound that held them (boundConnection, …).
	historyQueued *prometheus.CounterVec
	// The history digest: its size, and the stream histories it served.
	digestBytes   prometheus.Gauge
	digestEntries prometheus.Gauge
	historyDigest prometheus.Counter
	// mismatched counts stream messages not forwarded because their
	// payload's app or tier is not their subject's, by reader.
	mismatched *prometheus.CounterVec
	// apiRefused counts API requests refused by Config.MaxAPIRequests,
	// by route. Deprecated: apiRequests counts them too (result limit);
	// it stays for the dashboards that read it.
	apiRefused *prometheus.CounterVec
	// apiRequests counts the /api/v1 requests by route (apps, fleet,
	// health) and result (ok, token, limit, unavailable, canceled): every
	// refusal is counted, its log lines bounded (countedLog).
	apiRequests *prometheus.CounterVec
	// historyFailed counts subscriptions whose history (pass history) or
	// catch-up read (pass catchup) failed on the bus.
	historyFailed *prometheus.CounterVec
	// forwardUnreadable counts requests from a trusted proxy whose
	// forwarding header could not be read (Config.ForwardedHeader).
	forwardUnreadable prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		clients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "headroom_gateway_clients", Help: "Open WebSocket clients.",
		}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "headroom_gateway_subscriptions", Help: "Active subscriptions over all clients.",
		}),
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_gateway_connections_total",
			Help: "WebSocket connection attempts by result (accepted, origin, token, limit, addr_limit, unavailable, upgrade; host counts every refused request, page and API too).",
		}, []string{"result"}),
		slowClients: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headroom_gateway_slow_clients_total",
			Help: "Clients disconnected because they fell behind (their buffer filled or a write timed out).",
		}),
		liveMsgs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headroom_gateway_live_messages_total", Help: "Messages received from the bus for live fan-out.",
		}),
		framesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headroom_gateway_frames_sent_total", Help: "Frames written to clients (history, live and control).",
		}),
		bytesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headroom_gateway_sent_bytes_total", Help: "Bytes of WebSocket messages written to clients.",
		}),
		historyMsgs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headroom_gateway_history_messages_total", Help: "Messages replayed from history to clients.",
		}),
		historyTrunc: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headroom_gateway_history_truncated_total", Help: "History replays cut short by the count or byte cap.",
		}),
		historyCatchUps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headroom_gateway_history_catchups_total",
			Help: "Passes reading from the streams the live messages a subscription could not hold during its history.",
		}),
		historyQueued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_gateway_history_queued_total",
			Help: "History replays that waited for a slot, by the bound that held them: their connection's (gateway.history-per-client: its earlier replays run), their client address's (gateway.history-per-addr) or the gateway's (gateway.history-concurrency).",
		}, []string{"bound"}),
		digestBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "headroom_gateway_digest_bytes", Help: "Memory held by the history digest that serves long windows (frame bytes plus a fixed overhead per entry).",
		}),
		digestEntries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "headroom_gateway_digest_entries", Help: "Messages held by the history digest.",
		}),
		historyDigest: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headroom_gateway_history_digest_total", Help: "Stream histories of a subscribe served from the digest instead of the stream.",
		}),
		mismatched: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_gateway_mismatched_messages_total",
			Help: "Stream messages not forwarded to clients because their payload's app or tier is not their subject's, by reader (live, digest: once per message; history: once per replay that reads it).",
		}, []string{"reader"}),
		apiRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_gateway_api_refused_total",
			Help: "Deprecated, kept for the dashboards that read it: the same count as headroom_gateway_api_requests_total{result=\"limit\"}. /api/v1/apps and /api/v1/fleet requests refused (429) because gateway.max-api-requests were in progress, by route.",
		}, []string{"route"}),
		apiRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_gateway_api_requests_total",
			Help: "/api/v1 requests by route (apps, fleet, health) and result: ok, token (401: missing or wrong token), limit (429: gateway.max-api-requests in progress), unavailable (503: the streams could not be read), canceled (the client hung up first).",
		}, []string{"route", "result"}),
		historyFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_gateway_history_failures_total",
			Help: "Subscriptions whose history could not be read from the bus, by pass: history (the replay: the client gets an error frame) or catchup (the re-read of live messages it could not hold: the client is disconnected).",
		}, []string{"pass"}),
		forwardUnreadable: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headroom_gateway_forwarded_unreadable_total",
			Help: "WebSocket requests from a trusted proxy (gateway.trusted-proxies) whose forwarding header (gateway.forwarded-header) could not be read: the proxy is taken as their client, its address counting against gateway.max-clients-per-addr.",
		}),
	}
	for _, c := range []prometheus.Collector{m.mismatched, m.digestBytes, m.digestEntries, m.historyDigest, m.historyCatchUps, m.historyQueued, m.clients, m.subscriptions, m.connections, m.slowClients, m.liveMsgs,
		m.framesSent, m.bytesSent, m.historyMsgs, m.historyTrunc, m.apiRefused, m.apiRequests, m.historyFailed, m.forwardUnreadable} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("gateway metrics: a gateway is already registered: %w", err)
			}
			return nil, fmt.Errorf("gateway metrics: %w", err)
		}
	}
	for _, route := range []string{"apps", "fleet"} {
		m.apiRefused.WithLabelValues(route)
	}
	// Every series exists from the start (at 0), so that alerts can use
	// increase() on the first refusal.
	for route, results := range apiResults {
		for _, result := range results {
			m.apiRequests.WithLabelValues(route, result)
		}
	}
	for _, result := range connResults {
		m.connections.WithLabelValues(result)
	}
	for _, pass := range []string{passHistory, passCatchUp} {
		m.historyFailed.WithLabelValues(pass)
	}
	for _, b := range []string{boundConnection, boundAddress, boundGateway} {
		m.historyQueued.WithLabelValues(b)
	}
	return m, nil
}
