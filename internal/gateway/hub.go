package gateway

import (
	"context"
	"fmt"
	"sync"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// holdFactor sizes the hold of a subscription replaying its history, in
// client buffers.
const holdFactor = 4

// subscription is one client subscription. Until its history is sent it
// holds matching live messages; then it forwards those the history did not
// already cover, and every later one, to the client's live queue.
type subscription struct {
	id      string
	spec    subSpec
	c       *client
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	live    bool              // history sent: forward directly
	closed  bool              // removed: drop whatever still arrives
	held    []*liveMsg        // live messages that arrived during history
	dropped bool              // held overflowed: the history reads them again
	covered map[string]uint64 // per stream, the last sequence the history covered
}

func newSubscription(c *client, spec subSpec) *subscription {
	ctx, cancel := context.WithCancel(c.ctx)
	return &subscription{id: spec.id, spec: spec, c: c, ctx: ctx, cancel: cancel, live: spec.since == 0}
}

func (s *subscription) matches(subject string) bool {
	for _, f := range s.spec.filters {
		if f.match(subject) {
			return true
		}
	}
	return false
}

// deliver hands a live message to the subscription without ever blocking.
func (s *subscription) deliver(m *liveMsg) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if !s.live {
		// A long replay may take a while at the client's pace: hold up to
		// four buffers' worth of live messages; past that, drop them and
		// let the replay read them from the stream after the history (a
		// client that is reading is never cut for a busy feed).
		if s.dropped || len(s.held) >= holdFactor*cap(s.c.live) {
			s.dropped = true
			s.held = nil
		} else {
			s.held = append(s.held, m)
		}
		s.mu.Unlock()
		return
	}
	skip := m.seq <= s.covered[m.stream]
	s.mu.Unlock()
	if skip {
		return
	}
	s.c.push(outItem{sub: s.id, m: m})
}

// drain is the catch-up step after history_done. When live messages were
// dropped it says so and starts holding afresh (the caller reads the
// streams again past covered); else it hands over what it holds; holding
// nothing, it switches to direct delivery of what covered does not cover.
func (s *subscription) drain(covered map[string]uint64) (held []*liveMsg, dropped, live bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false, true
	}
	switch {
	case s.dropped:
		s.dropped, s.held = false, nil
		return nil, true, false
	case len(s.held) > 0:
		held, s.held = s.held, nil
		return held, false, false
	}
	s.covered = covered
	s.live = true
	return nil, false, true
}

// push queues a live frame or, when the queue is full, cuts the client.
func (c *client) push(it outItem) {
	select {
	case c.live <- it:
	default:
		c.kill(errSlow)
	}
}

// maxRoutes bounds the subject routing cache; past it the cache starts over.
const maxRoutes = 1 << 14

// hub fans live messages out to the matching subscriptions. Matching every
// filter of every subscription for each message would cost O(clients ×
// filters); instead the subscriptions matching a subject are computed once
// and cached until a subscription comes or goes. Subjects are few (apps ×
// tiers × kinds), so the cache stays small.
type hub struct {
	mu     sync.RWMutex
	subs   map[*subscription]struct{}
	routes map[string][]*subscription
}

func (g *Gateway) addSub(s *subscription) {
	g.hub.mu.Lock()
	g.hub.subs[s] = struct{}{}
	g.hub.routes = nil
	g.hub.mu.Unlock()
	g.metrics.subscriptions.Inc()
}

func (g *Gateway) removeSub(s *subscription) {
	s.cancel()
	s.mu.Lock()
	s.closed = true
	s.held = nil
	s.mu.Unlock()
	g.hub.mu.Lock()
	_, ok := g.hub.subs[s]
	delete(g.hub.subs, s)
	g.hub.routes = nil
	g.hub.mu.Unlock()
	if ok {
		g.metrics.subscriptions.Dec()
	}
}

// route returns the subscriptions matching subject, from the cache when it can.
func (h *hub) route(subject string) []*subscription {
	h.mu.RLock()
	r, ok := h.routes[subject]
	h.mu.RUnlock()
	if ok {
		return r
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if r, ok := h.routes[subject]; ok {
		return r
	}
	r = nil
	for s := range h.subs {
		if s.matches(subject) {
			r = append(r, s)
		}
	}
	if h.routes == nil || len(h.routes) >= maxRoutes {
		h.routes = map[string][]*subscription{}
	}
	h.routes[subject] = r
	return r
}

// dispatch hands a stream message to every matching subscription; a message
// nobody follows costs a cache lookup and nothing more.
func (g *Gateway) dispatch(subject, stream string, seq uint64, ts int64, data []byte) {
	g.metrics.liveMsgs.Inc()
	subs := g.hub.route(subject)
	if len(subs) == 0 {
		return
	}
	m := newLiveMsg(subject, stream, seq, ts, data)
	for _, s := range subs {
		s.deliver(m)
	}
}

// runLive consumes every stream from its end with ordered consumers (no
// durable state on the server, nothing published) and dispatches each
// message whose payload matches its subject (genuine). It returns when ctx ends.
func (g *Gateway) runLive(ctx context.Context, started func()) error {
	var stops []func()
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	for _, k := range proto.Kinds {
		if k == proto.KindDLQ {
			continue // dead letters are never served: no need to read them
		}
		stop, err := g.consumeLive(ctx, k)
		if err != nil {
			return err
		}
		stops = append(stops, stop)
	}
	started()
	g.runDigest(ctx)
	<-ctx.Done()
	return nil
}

func (g *Gateway) consumeLive(ctx context.Context, k proto.Kind) (stop func(), err error) {
	name := proto.StreamName(g.prefix, k)
	var retry consumerRetry
	for {
		stop, err := g.bus.Follow(ctx, bus.WatchSpec{Kind: k, Start: bus.StartNew(), Batch: 1024}, func(m bus.Record) {
			if g.genuine(readerLive, k, m.Subject, m.Seq, m.Data) {
				g.dispatch(m.Subject, m.Stream, m.Seq, m.EventTime(), m.Data)
			}
		})
		if err == nil {
			return stop, nil
		}
		// The stream may not exist yet (another process creates it), or
		// this user may not read it yet: retry (consumerRetry).
		wait, level := retry.next(err)
		g.log.WithLevel(level).Err(err).Str("stream", name).Msg("live consumer not started, retrying")
		if err := g.retryWait(ctx, wait); err != nil {
			return nil, fmt.Errorf("live consumer on %s: %w", name, err)
		}
	}
}
