package gateway

import (
	"context"
	"time"
)

// SetAPIHook makes every /api/v1/apps and /api/v1/fleet request that holds
// a place under Config.MaxAPIRequests call hook, with the request's
// context, before it reads the streams, so a test can hold requests in
// flight (or until their client hangs up).
func SetAPIHook(g *Gateway, hook func(context.Context)) { g.apiHook = hook }

// SetHealthRecheck makes the health answer call hook, instead of waiting,
// before it reads again the consumers nobody seemed to pull from.
func SetHealthRecheck(g *Gateway, hook func(context.Context) error) { g.recheckHook = hook }

// SetRetryWait makes the waits before a stream's live or digest consumer
// is tried again call wait with their length instead of waiting.
func SetRetryWait(g *Gateway, wait func(ctx context.Context, d time.Duration) error) {
	g.retryHook = wait
}

// AddrsOpen is how many client addresses have a WebSocket open.
func AddrsOpen(g *Gateway) int { return g.addrs.len() }

// HistoryAddrs is how many client addresses have a history replay
// running or waiting (Config.HistoryPerAddr).
func HistoryAddrs(g *Gateway) int { return g.histAddrs.len() }

// AddrKey is addrKey: the prefix a client address is counted under.
var AddrKey = addrKey

// WithRefusalEvery is cfg with the per-address refusals summed up in a
// line every d instead of every minute.
func WithRefusalEvery(cfg Config, d time.Duration) Config {
	cfg.refusalEvery = d
	return cfg
}

// RefusedValues is how many distinct values each refusal log follows one
// by one.
const RefusedValues = refusedValues

// HostLogLen is how many Hosts the log of the Host refusals holds.
func HostLogLen(g *Gateway) int { return g.hostLog.len() }

// HoldClient counts a client open in g until release is called, as a
// WebSocket still closing does: Run waits for it before it returns.
func HoldClient(g *Gateway) (release func()) {
	g.clients.Add(1)
	return g.clients.Done
}
