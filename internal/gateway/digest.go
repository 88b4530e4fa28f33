package gateway

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// digestOverhead is what one digest entry costs beside its frame bytes.
const digestOverhead = 96

// digest is the gateway's thinned copy of recent history, so that a long
// window is sent without reading every stored message. Its own ordered
// consumers read each stream from the start, then follow it; per subject it
// keeps every notable message (see notable) and, of the others, the first of
// each grid interval of event time (Config.DigestGrid for metrics,
// Config.DigestEventGrid for forecasts, anomaly scores and holds), for the
// last Config.DigestKeep of event time and within Config.DigestMaxBytes.
//
// A history whose step is at least the grid of a stream, and whose window
// the digest holds whole, is served from it up to the last sequence it has
// read; the few messages stored since are read from the stream as before.
// Anything else (short windows, no step, a window older than the digest)
// reads the streams, as if there were no digest.
type digest struct {
	grid    map[proto.Kind]int64 // ms
	keep    int64                // ms
	max     int64                // bytes
	metrics *metrics

	mu      sync.RWMutex
	streams map[string]*digestStream
	bytes   int64
	entries int
}

// digestStream is the digest of one stream.
type digestStream struct {
	kind     proto.Kind
	seq      uint64 // the last sequence read
	newest   int64  // newest event time read
	from     int64  // event time from which the digest holds the stream whole
	subjects map[string]*digestSubject
}

// digestSubject holds one subject's entries in stream order.
type digestSubject struct {
	entries []digestEntry
	bucket  int64 // grid interval of the last kept non-notable entry
	kept    bool  // bucket is set
}

type digestEntry struct {
	m       *liveMsg
	size    int // payload bytes, for the history byte cap
	notable bool
}

func newDigest(cfg Config, m *metrics) *digest {
	if cfg.DigestGrid <= 0 {
		return nil
	}
	grid := map[proto.Kind]int64{}
	for _, k := range proto.Kinds {
		switch k {
		case proto.KindMetrics:
			grid[k] = cfg.DigestGrid.Milliseconds()
		case proto.KindForecast, proto.KindAnomaly, proto.KindDecision:
			grid[k] = cfg.DigestEventGrid.Milliseconds()
		case proto.KindScaling:
			grid[k] = 1 // every scaling event is notable: any step will do
		}
	}
	return &digest{grid: grid, keep: cfg.DigestKeep.Milliseconds(), max: cfg.DigestMaxBytes, metrics: m, streams: map[string]*digestStream{}}
}

// serves reports whether a history of kind k thinned at step can come from
// the digest (the window is checked against the stream's holdings later).
func (d *digest) serves(k proto.Kind, step int64) bool {
	if d == nil {
		return false
	}
	g, ok := d.grid[k]
	return ok && step > 0 && step >= g
}

// add files one stream message, read in stream order.
func (d *digest) add(k proto.Kind, stream, subject string, seq uint64, ts int64, data []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ds := d.streams[stream]
	if ds == nil {
		ds = &digestStream{kind: k, from: math.MinInt64, subjects: map[string]*digestSubject{}}
		d.streams[stream] = ds
	}
	if seq <= ds.seq {
		return // already read (a consumer that started over)
	}
	ds.seq = seq
	if ts > ds.newest {
		ds.newest = ts
	}
	cut := ds.newest - d.keep
	if cut > ds.from {
		ds.from = cut
	}
	if ts < cut {
		return
	}
	sub := ds.subjects[subject]
	if sub == nil {
		sub = &digestSubject{}
		ds.subjects[subject] = sub
	}
	e := digestEntry{notable: notable(k, data), size: len(data)}
	if !e.notable {
		b := floorDiv(ts, d.grid[k])
		if sub.kept && b == sub.bucket {
			d.trimSubject(sub, cut)
			return
		}
		sub.bucket, sub.kept = b, true
	}
	e.m = newLiveMsg(subject, stream, seq, ts, data)
	sub.entries = append(sub.entries, e)
	d.bytes += int64(len(e.m.tail)) + digestOverhead
	d.entries++
	d.trimSubject(sub, cut)
	for d.bytes > d.max && d.evict() {
	}
	d.metrics.digestBytes.Set(float64(d.bytes))
	d.metrics.digestEntries.Set(float64(d.entries))
}

// trimSubject drops a subject's entries older than cut (event time past
// the digest's keep).
func (d *digest) trimSubject(sub *digestSubject, cut int64) {
	n := 0
	for n < len(sub.entries) && sub.entries[n].m.ts < cut {
		n++
	}
	d.drop(sub, n)
}

// drop removes a subject's first n entries, releasing the array when most
// of it is gone.
func (d *digest) drop(sub *digestSubject, n int) {
	if n == 0 {
		return
	}
	for _, e := range sub.entries[:n] {
		d.bytes -= int64(len(e.m.tail)) + digestOverhead
	}
	d.entries -= n
	sub.entries = sub.entries[n:]
	if cap(sub.entries) > 64 && len(sub.entries) < cap(sub.entries)/4 {
		sub.entries = slices.Clone(sub.entries)
	}
}

// evict makes room past the byte cap: every stream forgets the oldest hour
// of event time it holds (or the oldest entry's time, if later), so every
// stream keeps a whole window, only a shorter one, and the subjects left
// with no entry (series gone quiet), which the byte count leaves out. It
// reports whether it freed anything.
func (d *digest) evict() bool {
	oldest := int64(math.MaxInt64)
	for _, ds := range d.streams {
		for _, sub := range ds.subjects {
			if len(sub.entries) > 0 && sub.entries[0].m.ts < oldest {
				oldest = sub.entries[0].m.ts
			}
		}
	}
	if oldest == math.MaxInt64 {
		return false
	}
	cut := oldest + time.Hour.Milliseconds()
	for _, ds := range d.streams {
		if cut > ds.from {
			ds.from = cut
		}
		for subject, sub := range ds.subjects {
			n := 0
			for n < len(sub.entries) && sub.entries[n].m.ts < cut {
				n++
			}
			d.drop(sub, n)
			if len(sub.entries) == 0 {
				delete(ds.subjects, subject)
			}
		}
	}
	return true
}

// snapshot returns, in stream order, the entries of stream that s matches
// with event time in its window, and the last sequence they cover; ok is
// false when the digest does not hold the whole window.
func (d *digest) snapshot(stream string, s *subscription) (entries []digestEntry, seq uint64, ok bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	ds := d.streams[stream]
	if ds == nil || ds.seq == 0 || s.spec.since < ds.from {
		return nil, 0, false
	}
	sp := s.spec
	for subject, sub := range ds.subjects {
		if !s.matches(subject) {
			continue
		}
		for _, e := range sub.entries {
			if e.m.ts >= sp.since && (sp.until == 0 || e.m.ts < sp.until) {
				entries = append(entries, e)
			}
		}
	}
	slices.SortFunc(entries, func(a, b digestEntry) int {
		switch {
		case a.m.seq < b.m.seq:
			return -1
		case a.m.seq > b.m.seq:
			return 1
		}
		return 0
	})
	return entries, ds.seq, true
}

// replayDigest sends the stream's history from the digest and marks it
// covered up to the digest's last sequence; it reports false (sending
// nothing) when the digest cannot serve it.
func (g *Gateway) replayDigest(st *replayState, k proto.Kind, stream string, covered map[string]uint64) (bool, error) {
	if !g.digest.serves(k, st.s.spec.step) {
		return false, nil
	}
	entries, seq, ok := g.digest.snapshot(stream, st.s)
	if !ok {
		return false, nil
	}
	g.metrics.historyDigest.Inc()
	// The digest is already thinned at its grid: thinning again at step
	// less one grid keeps about one message per step, as from the stream.
	step := max(st.s.spec.step-g.digest.grid[k], 1)
	for _, e := range entries {
		if st.thinned(e.m.subject, e.m.ts, e.notable, step) {
			continue
		}
		if err := st.send(e.m, e.size, e.notable, step); err != nil {
			return true, err
		}
	}
	covered[stream] = seq
	return true, nil
}

// runDigest fills and follows the digest from every served stream until ctx
// ends. A stream that does not exist yet is retried.
func (g *Gateway) runDigest(ctx context.Context) {
	if g.digest == nil {
		return
	}
	var wg sync.WaitGroup
	for _, k := range proto.Kinds {
		if k == proto.KindDLQ {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.followDigest(ctx, k)
		}()
	}
	wg.Wait()
}

func (g *Gateway) followDigest(ctx context.Context, k proto.Kind) {
	name := proto.StreamName(g.prefix, k)
	var retry consumerRetry
	for {
		start, n, filled := time.Now(), 0, false
		stop, err := g.bus.Follow(ctx, bus.WatchSpec{Kind: k, Start: bus.StartAll(), Batch: 1024}, func(m bus.Record) {
			if g.genuine(readerDigest, k, m.Subject, m.Seq, m.Data) {
				g.digest.add(k, m.Stream, m.Subject, m.Seq, m.EventTime(), m.Data)
			}
			if n++; !filled && m.Pending == 0 {
				filled = true
				g.log.Info().Str("stream", name).Int("messages", n).Dur("took", time.Since(start)).Msg("history digest filled")
			}
		})
		if err == nil {
			<-ctx.Done()
			stop()
			return
		}
		if ctx.Err() != nil {
			return
		}
		wait, level := retry.next(err)
		g.log.WithLevel(level).Err(fmt.Errorf("history digest of %s: %w", name, err)).Msg("digest consumer not started, retrying")
		if g.retryWait(ctx, wait) != nil {
			return
		}
	}
}

// floorDiv divides rounding toward minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
