// Package gateway serves Headroom's live dashboard: the embedded page (package
// web) at "/", a WebSocket feed at "/ws" and the list of apps at
// "/api/v1/apps". It is read-only toward the bus: it reads JetStream through
// ordered consumers (ephemeral, no durable state, nothing acknowledged) and
// never publishes. Like every consumer it checks that a message's payload
// names its subject's app and tier; as it cannot send a mismatch to the
// dead-letter queue, it forwards it to no client, counts it
// (headroom_gateway_mismatched_messages_total) and logs its subject.
//
// # Protocol
//
// The client sends JSON text frames; the server sends binary frames, each
// holding one or more MessagePack maps back to back (decode them with a
// multi-value decoder, e.g. decodeMulti of @msgpack/msgpack). Frames that
// arrive within the flush interval (50 ms by default) share one WebSocket
// message. A client that opens /ws?compress=gzip gets every WebSocket message
// of 32 KiB or more (histories) gzip-compressed: such a message starts with
// the bytes 1f 8b, which no MessagePack map starts with; inflate it, then
// decode as usual. A browser moves a compressed history through its network
// process several times faster (DecompressionStream inflates it).
//
// Client to server:
//
//	{"op":"subscribe","id":"s1","subjects":["apm.metrics.shop.*","apm.decision.>"],"since":<unix ms>}
//	{"op":"subscribe","id":"s2","app":"shop","tier":"web","kinds":["metrics","forecast"],"since":<ms>,"until":<ms>}
//	{"op":"unsubscribe","id":"s1"}
//	{"op":"ping"}
//
// A subscription names subject filters under the prefix (NATS wildcards * and
// >, the token after the prefix a kind or a wildcard), or an app with an
// optional tier and kinds (default: every kind). Dead letters (<prefix>.dlq.>)
// are never served: a filter naming them is refused, and wildcards in the
// kind's place skip them. "since" asks for
// history: every stored message whose event time (the Headroom-Ts header) is
// at or after it is sent first, in stream order, stream by stream (metrics,
// forecast, anomaly, decision, scaling); then live messages follow with
// neither gap nor duplicate. "until" ends the history there and makes the
// subscription history-only (replay); "step_ms" thins the history to one
// message per subject per step, except events, which are all sent (flagged
// anomalies, incident changes, decisions other than holds, scaling requests,
// failures and skips); "max" lowers the history cap. A repeated id replaces
// its subscription.
//
// Server to client (MessagePack maps):
//
//	{"type":"hello","prefix":"apm","version":"…","server_time":<ms>,"max_history":N}
//	{"type":"subscribed","sub":"s1","subjects":[…]}
//	{"type":"msg","sub":"s1","subject":"apm.metrics.shop.web","stream":"METRICS","seq":123,"ts":<event ms>,"data":<bin: the message's msgpack payload>}
//	{"type":"history_done","sub":"s1","count":N,"bytes":B,"truncated":false,"reason":""}
//	{"type":"error","sub":"s1","code":"invalid|limit|internal","message":"…"}
//	{"type":"pong"}
//
// "data" is the payload exactly as stored (a proto message: decode it as a
// second step). A history replay stops at Config.MaxHistory messages or
// Config.MaxHistoryBytes payload bytes; history_done then says
// truncated=true with reason "max_history" or "max_history_bytes", and live
// messages follow as usual.
//
// # History by event time
//
// Stored time is not event time: the all-in-one backfills days of history in
// seconds. A replay therefore starts an ordered consumer at a stored time early
// enough to hold every message of the window (since − HistorySlack − the skew
// between event and stored time of the stream's newest message) and selects
// messages by their event time. It stops at the stream's last sequence as of
// the subscribe; the subscription, registered for live fan-out before that
// point, holds live messages meanwhile and forwards only those past it.
//
// # Long windows: the history digest
//
// Reading every stored message of a seven-day window to send one in ten
// would make a long window cost as much as the whole store. The gateway
// therefore keeps a digest in memory (Config.DigestGrid, DigestEventGrid,
// DigestKeep, DigestMaxBytes): its own ordered consumers read each stream
// from the start and then follow it, keeping per subject every notable
// message and, of the others, the first of each grid interval of event time
// (5 minutes for metrics, 30 for the rest). A subscription thinned at a step
// of at least the grid, whose window the digest holds whole, is served from
// it up to the last sequence the digest has read, thinned again at the step
// less one grid; the messages stored since are read from the stream as
// above, and live messages follow as usual. Short windows, histories without
// a step and windows older than the digest read the streams.
//
// # Slow clients and limits
//
// Live messages reach a client through a bounded queue (Config.ClientBuffer
// frames) filled without blocking: a client whose queue is full, or whose
// socket does not take a write within Config.WriteTimeout, is disconnected
// with close code 1008 and counted in headroom_gateway_slow_clients_total, so
// it never stalls the fan-out, the bus or the other clients. History is sent
// at the pace the client reads, at most Config.HistoryConcurrency replays at
// a time, of which one connection runs at most Config.HistoryPerClient (2)
// and, when Config.HistoryPerAddr is set, the connections of one client
// address (counted as for MaxClientsPerAddr below) at most that many: a
// subscribe past a bound waits for a slot (its connection's earlier
// replays, say), counted by bound in headroom_gateway_history_queued_total,
// so a connection that sends many subscribes and reads slowly cannot keep
// the other dashboards' histories waiting. Live messages arriving meanwhile
// are held, up to four client buffers, past which the client is cut as
// well. Requests are bounded (8 KiB, 16 filters, Config.MaxSubscriptions
// subscriptions, Config.MaxClients connections, when set Config.MaxClientsPerAddr of them from one
// address, an IPv6 /64: 429 beyond; the client's address behind one of
// Config.TrustedProxies, read from its Config.ForwardedHeader through
// internal/clientaddr as the push API reads it). At most
// Config.MaxAPIRequests /api/v1/apps and /api/v1/fleet requests, which read
// the newest message of every series, are served at once; more get 429
// with Retry-After (headroom_gateway_api_requests_total{result="limit"};
// headroom_gateway_api_refused_total, deprecated, counts them too).
// Every /api/v1 request is counted by route and result in
// headroom_gateway_api_requests_total (token refusals, 429s, 503s
// included), every history the streams could not give in
// headroom_gateway_history_failures_total; their log lines are the first
// of each value (Host, Origin, route and way the token came, error text)
// and a counted summary per minute after it (countedLog).
//
// # Security
//
// Every gateway route ("/", "/ws", /api/v1/apps, fleet and health) checks
// the Host header:
// localhost, 127.0.0.1 and [::1] on the port the request arrived on, and the
// names in Config.AllowedHosts (-gateway.allowed-hosts), pass; any other
// gets 403, so a page on an attacker's name re-pointed at 127.0.0.1 (DNS
// rebinding) cannot read the feed. A WebSocket upgrade is refused unless its Origin is absent (non-browser
// clients), the gateway's own host, or in Config.AllowedOrigins. With
// Config.Token set, /ws and /api/v1/* require "Authorization: Bearer
// <token>" or, on /ws only, for browsers that cannot set headers on a
// WebSocket, ?token=<token>. /api/v1 refuses a token in its URL (401,
// saying to send the header), even beside a good header: a URL lands in
// proxies' logs and browsers' history. The dashboard page itself holds no
// data and is public; it is given the token as #token=<token> in its
// address (a fragment, never sent), or ?token=<token>, keeps it for the
// tab and takes it out of the address bar (web/README.md).
// Without a token the gateway serves only on a loopback address: New (and
// Config.RequireTokenOn, which the mains call before they start) refuses
// a Deps.HTTPAddr beyond it, since the Host check stops browsers, not
// other clients.
//
// NATS permissions: the gateway publishes nothing under the prefix. It
// needs to publish only JetStream API requests: $JS.API.STREAM.INFO.*,
// $JS.API.STREAM.MSG.GET.*, $JS.API.DIRECT.GET.* and $JS.API.DIRECT.GET.*.>
// (the streams allow direct gets, which reads of a last message use),
// $JS.API.CONSUMER.CREATE.*.>, $JS.API.CONSUMER.LIST.* (the health strip
// reads the services' partition durables),
// $JS.API.CONSUMER.DELETE.*.*, $JS.API.CONSUMER.INFO.*.* and
// $JS.API.CONSUMER.MSG.NEXT.*.* (ordered consumers use no acks), plus
// subscribe rights on _INBOX.> for the replies and deliveries. Deny it
// publish on <prefix>.>. (service.Main also creates the streams at start,
// which needs $JS.API.STREAM.CREATE.* and UPDATE.*, unless they exist.)
// A stream whose consumer the server refuses it (a permissions violation)
// is tried again at an interval doubling from 1 s to 30 s, each attempt a
// line in the server's log, until the permissions are fixed; a stream not
// created yet every second.
package gateway
