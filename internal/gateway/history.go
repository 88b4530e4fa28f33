package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// histChunk is how many history frames travel to the writer together.
const histChunk = 256

// maxCatchUps bounds the passes that read again, after the history, the
// live messages a subscription could not hold while it was sent.
const maxCatchUps = 8

// errCapped stops a replay that reached its count or byte cap.
var errCapped = errors.New("history cap reached")

// replayState counts what one subscribe has replayed.
type replayState struct {
	s        *subscription
	count    int
	bytes    int64
	reason   string
	lastSent map[string]int64 // per subject, for step thinning
	chunk    []outItem
	after    bool // past history_done: live messages, neither capped nor thinned
}

// replay sends the subscription's history, then its history_done frame, then
// switches it live. Streams are read one after the other, each in stored
// order, by an ordered consumer that starts at a stored time early enough to
// hold every message of the window; messages are selected by event time.
func (g *Gateway) replay(s *subscription) {
	release, ok := g.historySlot(s)
	if !ok {
		return
	}
	defer release()
	st := &replayState{s: s, lastSent: map[string]int64{}}
	covered := map[string]uint64{}
	var err error
	byKind := streamFilters(g.prefix, s.spec.filters)
	for _, k := range proto.Kinds {
		if filters, ok := byKind[k]; ok {
			if err = g.replayStream(st, k, filters, covered); err != nil {
				break
			}
		}
	}
	truncated := errors.Is(err, errCapped)
	if err != nil && !truncated {
		if s.ctx.Err() != nil {
			return
		}
		g.metrics.historyFailed.WithLabelValues(passHistory).Inc()
		if ev, others := g.histFailLog.note(g.log, passHistory+" "+quoted(err.Error()), time.Now()); ev != nil {
			g.histFailLog.first(ev, others).Err(err).Str("sub", s.id).Msg("history replay failed")
		}
		st.chunk = append(st.chunk, outItem{ctrl: &controlFrame{Type: FrameError, Sub: s.id, Code: CodeInternal, Message: "history replay failed"}})
	}
	if truncated {
		g.metrics.historyTrunc.Inc()
	}
	st.chunk = append(st.chunk, outItem{ctrl: &controlFrame{Type: FrameHistoryDone, Sub: s.id, Count: st.count, Bytes: st.bytes, Truncated: truncated, Reason: st.reason}})
	if !st.flush() {
		return
	}
	if s.spec.until > 0 {
		s.c.forget(s) // a history-only subscription ends with its history
		return
	}
	g.catchUp(st, byKind, covered)
}

// historySlot waits for the places s's replay takes, in this order: one
// of its connection's (Config.HistoryPerClient), so that a connection's
// further subscribes wait for its own earlier replays rather than take
// every slot of the gateway; one of its client address's, when
// Config.HistoryPerAddr bounds them; one of the gateway's
// (Config.HistoryConcurrency). A wait is counted by the bound that held it
// (headroom_gateway_history_queued_total). ok is false when s ended first,
// with nothing held; otherwise release gives the places back.
func (g *Gateway) historySlot(s *subscription) (release func(), ok bool) {
	c := s.c
	var held []chan struct{}
	var leave func()
	undo := func() {
		for i := len(held) - 1; i >= 0; i-- {
			<-held[i]
		}
		if leave != nil {
			leave()
		}
	}
	take := func(sem chan struct{}, bound string) bool {
		select {
		case sem <- struct{}{}:
		default:
			g.metrics.historyQueued.WithLabelValues(bound).Inc()
			select {
			case sem <- struct{}{}:
			case <-s.ctx.Done():
				undo()
				return false
			}
		}
		held = append(held, sem)
		if s.ctx.Err() != nil {
			// Ended before, or as a place came free (select picks
			// either): no replay starts for a subscription gone.
			undo()
			return false
		}
		return true
	}
	if !take(c.histSem, boundConnection) {
		return nil, false
	}
	if lim := g.cfg.HistoryPerAddr; lim > 0 && c.addrOK {
		var sem chan struct{}
		sem, leave = g.histAddrs.join(c.addr, lim)
		if !take(sem, boundAddress) {
			return nil, false
		}
	}
	if !take(g.histSem, boundGateway) {
		return nil, false
	}
	return undo, true
}

// catchUp sends, after history_done, the live messages that arrived during
// the history, at the client's pace (a client that reads is never cut for a
// busy feed), then switches the subscription to direct delivery. Messages
// it could not hold were dropped: they are read from the streams again,
// from where the history ended.
func (g *Gateway) catchUp(st *replayState, byKind map[proto.Kind][]string, covered map[string]uint64) {
	s := st.s
	st.after = true
	for passes := 0; ; {
		held, dropped, live := s.drain(covered)
		switch {
		case live:
			return
		case dropped:
			if passes++; passes > maxCatchUps {
				s.c.kill(errSlow) // the feed outruns what this client reads
				return
			}
			g.metrics.historyCatchUps.Inc()
			for _, k := range proto.Kinds {
				if filters, ok := byKind[k]; ok {
					if err := g.replayStream(st, k, filters, covered); err != nil {
						if s.ctx.Err() == nil {
							g.metrics.historyFailed.WithLabelValues(passCatchUp).Inc()
							if ev, others := g.histFailLog.note(g.log, passCatchUp+" "+quoted(err.Error()), time.Now()); ev != nil {
								g.histFailLog.first(ev, others).Err(err).Str("sub", s.id).Msg("catch-up read failed")
							}
							s.c.kill(errGone)
						}
						return
					}
				}
			}
		default:
			for _, m := range held {
				if m.seq > covered[m.stream] {
					covered[m.stream] = m.seq
					st.chunk = append(st.chunk, outItem{sub: s.id, m: m})
				}
			}
		}
		if !st.flush() {
			return
		}
	}
}

// flush hands the pending chunk to the writer, waiting for it.
func (st *replayState) flush() bool {
	if len(st.chunk) == 0 {
		return true
	}
	select {
	case st.s.c.hist <- st.chunk:
		st.chunk = make([]outItem, 0, histChunk)
		return true
	case <-st.s.ctx.Done():
		return false
	}
}

// replayStream replays one stream up to its last sequence now; later
// messages reach the subscription live. The first pass starts at a stored
// time early enough for the window; a catch-up pass (covered already holds
// the stream) starts right after what was covered.
func (g *Gateway) replayStream(st *replayState, k proto.Kind, filters []string, covered map[string]uint64) error {
	s := st.s
	ctx := s.ctx
	if _, again := covered[proto.StreamName(g.prefix, k)]; !again {
		if _, err := g.replayDigest(st, k, proto.StreamName(g.prefix, k), covered); err != nil {
			return err
		}
	}
	str, err := g.bus.Reader(ctx, k)
	if err != nil {
		return fmt.Errorf("history of %s: %w", k, err)
	}
	state, err := str.State(ctx)
	if err != nil {
		return fmt.Errorf("history of %s: %w", k, err)
	}
	name, last := state.Name, state.LastSeq
	prev, catchUp := covered[name]
	covered[name] = last
	if state.Msgs == 0 || (catchUp && prev >= last) {
		return nil
	}
	// Start at a stored time that surely precedes every message of the
	// window: stored time is never much before event time, except when event
	// time runs ahead of the wall clock (an accelerated simulation), which
	// the newest message's skew measures.
	skew := time.Duration(0)
	if raw, err := str.Get(ctx, last); err == nil {
		if d := time.Duration(raw.EventTime()-raw.Stored.UnixMilli()) * time.Millisecond; d > 0 {
			skew = d
		}
	}
	spec := bus.WatchSpec{Kind: k, Filters: filters, Batch: 512,
		Start: bus.StartTime(proto.Time(s.spec.since).Add(-g.cfg.HistorySlack - skew))}
	if catchUp {
		spec.Start = bus.StartSeq(prev + 1)
	}
	w, err := g.bus.Watch(ctx, spec)
	if err != nil {
		return fmt.Errorf("history of %s: %w", name, err)
	}
	// Stop deletes the watch's consumer at once: a crowd of replays does
	// not pile idle consumers up.
	defer w.Stop()
	if w.Pending() == 0 {
		return nil
	}
	for {
		m, err := w.Next(ctx)
		if err != nil {
			return fmt.Errorf("history of %s: %w", name, err)
		}
		if m.Seq > last {
			return nil
		}
		if g.genuine(readerHistory, k, m.Subject, m.Seq, m.Data) {
			if err := st.take(k, m.Subject, name, m.Seq, m.EventTime(), m.Data); err != nil {
				return err
			}
		}
		if m.Pending == 0 || m.Seq == last {
			return nil
		}
	}
}

// take sends a message if it falls in the window, matches and is not
// thinned out (events are never thinned: see notable).
func (st *replayState) take(k proto.Kind, subject, stream string, seq uint64, ts int64, data []byte) error {
	sp := st.s.spec
	if ts < sp.since || (sp.until > 0 && ts >= sp.until) || !st.s.matches(subject) {
		return nil
	}
	if st.after {
		return st.send(newLiveMsg(subject, stream, seq, ts, data), len(data), true, 0)
	}
	isNotable := sp.step == 0 || notable(k, data)
	if st.thinned(subject, ts, isNotable, sp.step) {
		return nil
	}
	return st.send(newLiveMsg(subject, stream, seq, ts, data), len(data), isNotable, sp.step)
}

// thinned reports whether a history message closer than step in event time
// after the last one sent on its subject is skipped (notable ones never are).
func (st *replayState) thinned(subject string, ts int64, isNotable bool, step int64) bool {
	if st.after || isNotable || step <= 0 {
		return false
	}
	prev, ok := st.lastSent[subject]
	return ok && ts < prev+step && ts >= prev
}

// send queues one message of the window, not thinned out. During the
// history the caps apply and a message that is not notable sets its
// subject's last sent time; after the history (live catch-up), neither.
func (st *replayState) send(m *liveMsg, size int, isNotable bool, step int64) error {
	if !st.after {
		sp := st.s.spec
		g := st.s.c.g
		if st.count >= sp.max {
			st.reason = "max_history"
			return errCapped
		}
		if st.bytes+int64(size) > g.cfg.MaxHistoryBytes {
			st.reason = "max_history_bytes"
			return errCapped
		}
		if step > 0 && !isNotable {
			st.lastSent[m.subject] = m.ts
		}
		st.count++
		st.bytes += int64(size)
		g.metrics.historyMsgs.Inc()
	}
	st.chunk = append(st.chunk, outItem{sub: st.s.id, m: m})
	if len(st.chunk) >= histChunk && !st.flush() {
		return context.Canceled
	}
	return nil
}
