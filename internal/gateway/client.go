package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"
	"github.com/vmihailenco/msgpack/v5"
)

// Reasons a client is disconnected, carried as its context's cause.
var (
	errSlow     = errors.New("client too slow: its buffer filled")
	errShutdown = errors.New("gateway shutting down")
	errGone     = errors.New("client went away")
)

// Batching: frames waiting together are written as one WebSocket message of
// concatenated msgpack values, up to these bounds. A history goes out in
// messages of up to a megabyte: a browser passes every WebSocket message
// through its network process to the page, so on a busy machine the number
// of messages, not their size, sets the pace (a 7-day window: 8 messages
// instead of 120).
const (
	maxBatchBytes  = 1 << 20
	maxBatchFrames = 16384
)

// minGzipBytes is the smallest WebSocket message sent compressed to a client
// that asked for it (?compress=gzip): histories, not the live trickle.
const minGzipBytes = 32 << 10

// outItem is a frame waiting for a client: a stream message for a
// subscription, or a control frame.
type outItem struct {
	sub  string
	m    *liveMsg
	ctrl *controlFrame
}

// client is one WebSocket connection. The HTTP handler's goroutine reads
// requests; one writer goroutine owns every write but control frames; each
// subscription with history has its own goroutine feeding hist.
type client struct {
	g      *Gateway
	conn   *websocket.Conn
	log    zerolog.Logger
	ctx    context.Context
	cancel context.CancelCauseFunc

	// live takes live frames with non-blocking sends: when it is full the
	// client is cut, so the fan-out never waits for a client.
	live chan outItem
	// hist takes history chunks with blocking sends, unbuffered, so a history
	// goroutine knows the writer has taken its last frame when a send returns.
	hist chan []outItem
	// ctrl takes control frames from the reader.
	ctrl chan outItem

	mu   sync.Mutex
	subs map[string]*subscription
	wg   sync.WaitGroup // history goroutines

	// histSem holds the connection's running history replays
	// (Config.HistoryPerClient, at most Config.HistoryConcurrency).
	histSem chan struct{}
	// addr is the key of the client's address (addrKey), for
	// Config.HistoryPerAddr; addrOK false when it has none.
	addr   netip.Prefix
	addrOK bool

	killOnce sync.Once

	// gzip: the client asked for large messages gzip-compressed.
	gzip bool
}

// newClient makes the client of conn, from address addr (Gateway.client;
// the zero address when it has none).
func newClient(g *Gateway, conn *websocket.Conn, log zerolog.Logger, gzip bool, addr netip.Addr) *client {
	ctx, cancel := context.WithCancelCause(g.runCtx)
	c := &client{
		g: g, conn: conn, log: log, ctx: ctx, cancel: cancel, gzip: gzip,
		live:    make(chan outItem, g.cfg.ClientBuffer),
		hist:    make(chan []outItem),
		ctrl:    make(chan outItem, 16),
		subs:    map[string]*subscription{},
		histSem: make(chan struct{}, min(g.cfg.HistoryPerClient, g.cfg.HistoryConcurrency)),
	}
	c.addr, c.addrOK = addrKey(addr)
	return c
}

// kill disconnects the client for cause; the first cause wins. A slow client
// is counted and logged once. It never blocks: the writer sends the close
// frame and closes the connection.
func (c *client) kill(cause error) {
	c.killOnce.Do(func() {
		if errors.Is(cause, errSlow) {
			c.g.metrics.slowClients.Inc()
			c.log.Warn().Int("queued", len(c.live)).Int("buffer", cap(c.live)).Msg("slow client disconnected")
		}
		c.cancel(cause)
		// Unblock a write stuck on a client that stopped reading.
		_ = c.conn.NetConn().SetWriteDeadline(time.Now())
	})
}

// send queues a control frame from the reader, waiting while the writer is busy.
func (c *client) send(f *controlFrame) {
	select {
	case c.ctrl <- outItem{ctrl: f}:
	case <-c.ctx.Done():
	}
}

// serve runs the connection until the client leaves or is cut.
func (c *client) serve() {
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	c.send(&controlFrame{Type: FrameHello, Prefix: c.g.prefix, Version: version(), ServerTime: time.Now().UnixMilli(), MaxHistory: c.g.cfg.MaxHistory})
	c.readLoop()
	c.kill(errGone)
	c.mu.Lock()
	for id, s := range c.subs {
		c.g.removeSub(s)
		delete(c.subs, id)
	}
	c.mu.Unlock()
	c.wg.Wait()
	<-writerDone
	_ = c.conn.Close()
}

// readLoop handles requests until the connection fails or the client is cut.
func (c *client) readLoop() {
	c.conn.SetReadLimit(maxRequestBytes)
	deadline := func() { _ = c.conn.SetReadDeadline(time.Now().Add(2 * c.g.cfg.PingInterval)) }
	deadline()
	c.conn.SetPongHandler(func(string) error { deadline(); return nil })
	for {
		mt, data, err := c.conn.ReadMessage()
		if err != nil {
			if c.ctx.Err() == nil && !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
				c.log.Debug().Err(err).Msg("client read")
			}
			return
		}
		deadline()
		if mt != websocket.TextMessage {
			c.send(&controlFrame{Type: FrameError, Code: CodeInvalid, Message: "send requests as JSON text frames"})
			continue
		}
		req, err := parseRequest(data)
		if err != nil {
			c.send(&controlFrame{Type: FrameError, Sub: req.ID, Code: CodeInvalid, Message: err.Error()})
			continue
		}
		switch req.Op {
		case OpPing:
			c.send(&controlFrame{Type: FramePong})
		case OpUnsubscribe:
			c.unsubscribe(req.ID)
		case OpSubscribe:
			c.subscribe(req)
		}
	}
}

func (c *client) unsubscribe(id string) {
	c.mu.Lock()
	s := c.subs[id]
	delete(c.subs, id)
	c.mu.Unlock()
	if s != nil {
		c.g.removeSub(s)
	}
}

// forget drops s from the client's subscriptions if it is still there.
func (c *client) forget(s *subscription) {
	c.mu.Lock()
	if c.subs[s.id] == s {
		delete(c.subs, s.id)
	}
	c.mu.Unlock()
}

func (c *client) subscribe(req Request) {
	spec, err := subscribeSpec(c.g.prefix, req, c.g.cfg.MaxHistory)
	if err != nil {
		c.send(&controlFrame{Type: FrameError, Sub: req.ID, Code: CodeInvalid, Message: err.Error()})
		return
	}
	c.unsubscribe(spec.id) // a repeated id replaces the subscription
	c.mu.Lock()
	if len(c.subs) >= c.g.cfg.MaxSubscriptions {
		c.mu.Unlock()
		c.send(&controlFrame{Type: FrameError, Sub: spec.id, Code: CodeLimit, Message: "too many subscriptions on this connection"})
		return
	}
	s := newSubscription(c, spec)
	c.subs[spec.id] = s
	c.mu.Unlock()
	raw := make([]string, len(spec.filters))
	for i, f := range spec.filters {
		raw[i] = f.raw
	}
	ack := &controlFrame{Type: FrameSubscribed, Sub: spec.id, Subjects: raw}
	if spec.until == 0 {
		c.g.addSub(s) // before history starts, so no live message falls in between
	}
	if spec.since == 0 {
		c.send(ack)
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		// On the history path, so "subscribed" surely precedes the history.
		select {
		case c.hist <- []outItem{{ctrl: ack}}:
		case <-s.ctx.Done():
			return
		}
		c.g.replay(s)
	}()
}

// writeLoop writes queued frames, batching those already waiting, and pings.
func (c *client) writeLoop() {
	ping := time.NewTicker(c.g.cfg.PingInterval)
	defer ping.Stop()
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	var buf bytes.Buffer
	var zbuf gzipBuffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	frames := 0
	add := func(it outItem) {
		frames++
		var err error
		if it.ctrl != nil {
			err = enc.Encode(it.ctrl)
		} else {
			err = encodeMsg(&buf, enc, it.sub, it.m)
		}
		if err != nil {
			c.log.Error().Err(err).Msg("encode frame")
		}
	}
	for {
		buf.Reset()
		frames = 0
		select {
		case <-c.ctx.Done():
			c.closeFrame()
			return
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.g.cfg.WriteTimeout)); err != nil {
				c.kill(errGone)
			}
			continue
		case it := <-c.ctrl:
			add(it)
		case chunk := <-c.hist:
			for _, it := range chunk {
				add(it)
			}
		case it := <-c.live:
			add(it)
		}
		// Coalesce: gather what arrives within FlushInterval into the same
		// WebSocket message, so a busy feed costs one write per interval
		// per client instead of one per frame.
		if c.g.cfg.FlushInterval > 0 {
			linger.Reset(c.g.cfg.FlushInterval)
		}
	gather:
		for buf.Len() < maxBatchBytes && frames < maxBatchFrames {
			select {
			case it := <-c.ctrl:
				add(it)
				continue
			case chunk := <-c.hist:
				for _, it := range chunk {
					add(it)
				}
				continue
			case it := <-c.live:
				add(it)
				continue
			default:
			}
			if c.g.cfg.FlushInterval <= 0 {
				break
			}
			select {
			case it := <-c.ctrl:
				add(it)
			case chunk := <-c.hist:
				for _, it := range chunk {
					add(it)
				}
			case it := <-c.live:
				add(it)
			case <-linger.C:
				break gather
			case <-c.ctx.Done():
				break gather
			}
		}
		if c.g.cfg.FlushInterval > 0 && !linger.Stop() {
			select {
			case <-linger.C:
			default:
			}
		}
		out := buf.Bytes()
		if c.gzip && len(out) >= minGzipBytes {
			out = zbuf.compress(out)
		}
		_ = c.conn.SetWriteDeadline(time.Now().Add(c.g.cfg.WriteTimeout))
		if err := c.conn.WriteMessage(websocket.BinaryMessage, out); err != nil {
			if c.ctx.Err() == nil {
				if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
					c.kill(errSlow)
				} else {
					c.kill(errGone)
				}
			}
			c.closeFrame()
			return
		}
		c.g.metrics.framesSent.Add(float64(frames))
		c.g.metrics.bytesSent.Add(float64(len(out)))
	}
}

// closeFrame tells the client why it is disconnected, best effort, then
// closes the connection so the reader returns.
func (c *client) closeFrame() {
	code, text := websocket.CloseNormalClosure, ""
	switch cause := context.Cause(c.ctx); {
	case errors.Is(cause, errSlow):
		code, text = websocket.ClosePolicyViolation, "too slow"
	case errors.Is(cause, errShutdown), errors.Is(cause, context.Canceled) && c.g.runCtx.Err() != nil:
		code, text = websocket.CloseGoingAway, "gateway shutting down"
	}
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	_ = c.conn.Close()
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// gzipBuffer compresses a writer's large messages, reusing its state.
type gzipBuffer struct {
	buf bytes.Buffer
	zw  *gzip.Writer
}

// compress returns p gzip-compressed (fastest level: the point is fewer
// bytes through the browser, not the smallest); the result is valid until
// the next call.
func (z *gzipBuffer) compress(p []byte) []byte {
	z.buf.Reset()
	if z.zw == nil {
		z.zw, _ = gzip.NewWriterLevel(&z.buf, gzip.BestSpeed) // the level is valid
	} else {
		z.zw.Reset(&z.buf)
	}
	// Writes to a bytes.Buffer cannot fail.
	_, _ = z.zw.Write(p)
	_ = z.zw.Close()
	return z.buf.Bytes()
}
