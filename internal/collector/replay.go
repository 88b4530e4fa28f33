package collector

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// ReplayConfig says which recorded ticks to republish under which name.
type ReplayConfig struct {
	// App is the recorded application.
	App string
	// As is the shadow app the ticks are republished under.
	As string
	// From and To bound the ticks' event times: From ≤ ts < To. Zero From
	// starts at the first tick, zero To ends at the last (or never, with
	// Follow).
	From, To time.Time
	// Speed is event seconds per real second; 0 republishes as fast as the
	// bus takes them.
	Speed float64
	// Follow keeps replaying the ticks recorded after the replay began,
	// until To or the context ends, instead of stopping at the last one.
	Follow bool
	// Disorder is how far, in event time, a recorded tick may lag behind
	// the newest tick of the app recorded before it (a pusher's late
	// retry stored again past the stream's duplicate window, one tier's
	// tick stored after another's later one) and still be replayed:
	// the seek starts that much before From, and the recording is read
	// until a tick that much past To. 0: DefaultReplayDisorder.
	Disorder time.Duration
}

// DefaultReplayDisorder is ReplayConfig.Disorder's default.
const DefaultReplayDisorder = time.Hour

func (c ReplayConfig) disorder() int64 {
	if c.Disorder > 0 {
		return c.Disorder.Milliseconds()
	}
	return DefaultReplayDisorder.Milliseconds()
}

// Validate checks the settings.
func (c ReplayConfig) Validate() error {
	if err := proto.CheckToken("app", c.App); err != nil {
		return err
	}
	if err := proto.CheckToken("as", c.As); err != nil {
		return err
	}
	if c.App == c.As {
		return fmt.Errorf("as %q: the shadow app must differ from the recorded one", c.As)
	}
	if !c.To.IsZero() && !c.To.After(c.From) {
		return fmt.Errorf("to %s is not after from %s", c.To.Format(time.RFC3339), c.From.Format(time.RFC3339))
	}
	if c.Speed < 0 {
		return fmt.Errorf("speed %v: want ≥ 0", c.Speed)
	}
	if c.Disorder < 0 {
		return fmt.Errorf("disorder %v: want ≥ 0", c.Disorder)
	}
	return nil
}

// ReplayStats counts what a replay did.
type ReplayStats struct {
	// Read is the recorded ticks of the app read from the seek point on;
	// Published those in the time range, republished.
	Read, Published int
	// First and Last are the event times of the first and last republished tick.
	First, Last time.Time
	// StartSeq is the stream sequence the replay sought to (the first
	// recorded tick of the app with event time ≥ From less the Disorder).
	StartSeq uint64
	// Recorded is the event time range of the app's recorded ticks.
	RecordedFrom, RecordedTo time.Time
}

// ErrEmptyRange is returned (wrapped, naming the recorded range) when no
// recorded tick falls in [From, To).
var ErrEmptyRange = errors.New("no recorded ticks in the range")

// Replay republishes app's ticks recorded in the METRICS stream whose
// event time (the Headroom-Ts header) is in [From, To) under the shadow
// app, with their original event time, values and replicas, source
// "replay" and a label replay_of. Ids are built from the shadow name, so a
// replay run twice stores each tick once, and the whole pipeline
// (forecaster, anomaly, decider with the shadow app's policy) runs on the
// recording beside the live app. Ticks leave in recorded order, paced by
// event time at Speed. A tick at or before the last one republished of
// its tier is skipped, as the stages skip it (a copy stored again past the
// stream's duplicate window, a late tick): the shadow gets each tier's
// ticks once, in event-time order.
//
// It seeks to From by time instead of scanning: a binary search over the
// app's recorded ticks (GetMsg by sequence, next for the app's subjects)
// finds where the ticks reach From less Disorder. The collector records an
// app's ticks in event-time order but for a local disorder: a tick lagging
// the newest one recorded before it by at most Disorder is replayed all the
// same (when in range and not before its tier's last), as if in order;
// one lagging more may be missed. Without Follow it stops at the last tick
// recorded when it began; with Follow it goes on with new ticks until To
// or ctx ends.
// A shadow name whose newest tick is not a replay's, an app of its own,
// is refused before anything is published (ErrNameTaken). When nothing
// falls in the range the error names the recorded range; a
// tick the server refuses to store (a user without the right to publish the
// shadow's subjects, such as the all-in-one's read-only observer) fails the
// replay as the server's refusal arrives (bus.IsRefused), naming the tick
// and the server's reason for that tick.
func Replay(ctx context.Context, b *bus.Bus, c ReplayConfig, log zerolog.Logger) (ReplayStats, error) {
	var st ReplayStats
	if err := c.Validate(); err != nil {
		return st, err
	}
	stream, err := b.Reader(ctx, proto.KindMetrics)
	if err != nil {
		return st, err
	}
	filter := proto.AppFilter(b.Prefix(), proto.KindMetrics, c.App)
	state, err := stream.State(ctx)
	if err != nil {
		return st, fmt.Errorf("replay: %w", err)
	}
	first, err := stream.Next(ctx, filter, state.FirstSeq)
	if errors.Is(err, bus.ErrNotFound) {
		return st, fmt.Errorf("replay: no recorded ticks of app %q", c.App)
	}
	if err != nil {
		return st, fmt.Errorf("replay: first tick: %w", err)
	}
	lastMsg, err := stream.Last(ctx, filter)
	if err != nil {
		return st, fmt.Errorf("replay: last tick: %w", err)
	}
	if err := notOwnTicks(ctx, stream, proto.AppFilter(b.Prefix(), proto.KindMetrics, c.As), c.App, c.As); err != nil {
		return st, err
	}
	st.RecordedFrom, st.RecordedTo = proto.Time(first.EventTime()), proto.Time(lastMsg.EventTime())
	end := lastMsg.Seq // without Follow, stop there
	from, to := proto.Millis(c.From), proto.Millis(c.To)
	empty := func() error {
		return fmt.Errorf("replay: %w [%s, %s) of app %q: recorded ticks span %s … %s", ErrEmptyRange,
			fmtTime(c.From), fmtTime(c.To), c.App, st.RecordedFrom.Format(time.RFC3339), st.RecordedTo.Format(time.RFC3339))
	}
	// The first and last ticks recorded bound the rest up to the disorder:
	// none lags a tick recorded before it by more.
	slack := c.disorder()
	if !c.Follow && ((!c.From.IsZero() && from > lastMsg.EventTime()+slack) || (!c.To.IsZero() && to <= first.EventTime()-slack)) {
		return st, empty()
	}
	startSeq := first.Seq
	if !c.From.IsZero() {
		if startSeq, err = seekEventTime(ctx, stream, filter, first.Seq, end, from-slack); err != nil {
			return st, fmt.Errorf("replay: seek: %w", err)
		}
	}
	st.StartSeq = startSeq
	log.Info().Uint64("seq", startSeq).Uint64("last_seq", end).Time("recorded_from", st.RecordedFrom).Time("recorded_to", st.RecordedTo).Msg("replay sought its start")
	w, err := b.Watch(ctx, bus.WatchSpec{Kind: proto.KindMetrics, Filters: []string{filter}, Start: bus.StartSeq(startSeq), Batch: 512})
	if err != nil {
		return st, fmt.Errorf("replay: %w", err)
	}
	defer w.Stop()
	var wallStart time.Time
	var firstTS int64
	lastSent := map[string]int64{} // by tier, the event time of the last tick republished
	acks := b.NewAcks()
	for {
		msg, err := w.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				if c.Follow && errors.Is(ctx.Err(), context.Canceled) {
					break // a follow ends when it is stopped
				}
				return st, ctx.Err()
			}
			return st, fmt.Errorf("replay: read after %d ticks: %w", st.Read, err)
		}
		st.Read++
		ts, ok := msg.HeaderTime()
		if !ok {
			b.LogRecord(log.Warn(), msg).Msg("recorded tick without event time, skipped")
			ts = -1
		}
		// Recorded in event-time order up to the disorder: past To by
		// more, the range is over; so it is at To for the ticks recorded
		// after the replay began (Follow), which stops there rather than
		// wait for a tick that much later.
		if ts >= 0 && !c.To.IsZero() && ts >= to && (ts >= to+slack || msg.Seq >= end) {
			break
		}
		if ts >= 0 && (c.From.IsZero() || ts >= from) && (c.To.IsZero() || ts < to) {
			if err := republish(ctx, b, c, msg, ts, &st, acks, &wallStart, &firstTS, lastSent, log); err != nil {
				return st, err
			}
		}
		if !c.Follow && msg.Seq >= end {
			break
		}
	}
	if err := acks.Wait(context.WithoutCancel(ctx)); err != nil {
		return st, fmt.Errorf("replay: %w", err)
	}
	if st.Published == 0 && !c.Follow {
		return st, empty()
	}
	return st, nil
}

// ErrNameTaken is returned (wrapped, naming the app's last tick) by a
// replay under the name of an app with ticks of its own.
var ErrNameTaken = errors.New("the app has ticks of its own")

// notOwnTicks refuses a replay under the name as whose newest tick stored
// (filter: as's METRICS subjects) is not a replayed one: as is an app of
// its own (live, dry-run or shadow, pushed, scraped or simulated), and
// the replay's ticks would stand in its place, in the decider's state of
// the app and its decisions. The executor refuses to act on decisions made
// from them, and collector replay's --config refuses an app the file names
// live, but without the file nothing else would stop it. An app whose
// newest tick is a replay of app (a replay run again) or that has none
// passes; one whose newest tick replays another app is refused too: the
// two recordings would interleave under one name, their ticks of the same
// tier and time stored once (the first's), and the dashboard's overlay
// would compare the shadow with whichever original replayed last. It is
// checked once, before the replay publishes: an app that begins publishing
// under the name afterwards (during a Follow) is not noticed.
func notOwnTicks(ctx context.Context, stream *bus.StreamReader, filter, app, as string) error {
	last, err := stream.Last(ctx, filter)
	if errors.Is(err, bus.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("replay: last tick of %q: %w", as, err)
	}
	var m proto.Metrics
	if err := proto.Decode(last.Data, &m); err != nil {
		return fmt.Errorf("replay: %w: %q's newest tick (seq %d) does not decode (%v), so it cannot be told a replay's", ErrNameTaken, as, last.Seq, err)
	}
	if m.Source != proto.SourceReplay {
		return fmt.Errorf("replay: %w: --as %s names an app whose newest tick (%s, source %q) is not a replay's; replay under a name of its own", ErrNameTaken, as, m.EventTime().Format(time.RFC3339), m.Source)
	}
	if of, ok := m.Labels["replay_of"]; ok && of != app {
		return fmt.Errorf("replay: %w: --as %s holds a replay of app %q (newest tick %s), not of %q; replay under a name of its own", ErrNameTaken, as, of, m.EventTime().Format(time.RFC3339), app)
	}
	return nil
}

// republish paces and publishes one recorded tick under the shadow name,
// unless it is at or before the last one republished of its tier
// (lastSent, by tier), which it then skips.
func republish(ctx context.Context, b *bus.Bus, c ReplayConfig, msg bus.Record, ts int64, st *ReplayStats, acks *bus.Acks, wallStart *time.Time, firstTS *int64, lastSent map[string]int64, log zerolog.Logger) error {
	var m proto.Metrics
	if err := proto.Decode(msg.Data, &m); err != nil {
		b.LogRecord(log.Warn().Err(err), msg).Msg("recorded tick undecodable, skipped")
		return nil
	}
	if last, ok := lastSent[m.Tier]; ok && ts <= last {
		b.LogRecord(log.Debug().Time("last", proto.Time(last)), msg).Msg("recorded tick at or before its tier's last republished (a copy stored again, or late), skipped")
		return nil
	}
	lastSent[m.Tier] = ts
	if c.Speed > 0 {
		if wallStart.IsZero() {
			*wallStart, *firstTS = time.Now(), ts
		}
		due := wallStart.Add(time.Duration(float64(time.Duration(ts-*firstTS)*time.Millisecond) / c.Speed))
		for d := time.Until(due); d > 0; d = time.Until(due) {
			// A refusal of an earlier tick ends the wait, and the replay.
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-acks.Refusals():
				t.Stop()
				if err := acks.Poll(); err != nil {
					return fmt.Errorf("replay: %w", err)
				}
			case <-t.C:
			}
		}
	}
	shadow := m
	shadow.App, shadow.ID, shadow.Source = c.As, proto.MetricsID(c.As, m.Tier, m.TS), proto.SourceReplay
	shadow.Labels = maps.Clone(m.Labels)
	if len(shadow.Labels) < proto.MaxMetricLabels {
		if shadow.Labels == nil {
			shadow.Labels = map[string]string{}
		}
		shadow.Labels["replay_of"] = c.App
	}
	// The server refuses a publish the user may not make as it reads it:
	// the first refusal stops the replay (permissions do not heal by
	// waiting), naming the refused tick.
	if err := acks.Poll(); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if err := acks.Publish(bus.Out{Subject: proto.MetricsSubject(b.Prefix(), c.As, m.Tier), Msg: &shadow}); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if st.Published == 0 {
		st.First = m.EventTime()
	}
	st.Published++
	st.Last = m.EventTime()
	if st.Published%4096 == 0 {
		if err := acks.Wait(ctx); err != nil {
			return fmt.Errorf("replay: %w", err)
		}
		log.Info().Int("ticks", st.Published).Time("at", st.Last).Msg("replay progress")
	}
	return nil
}

// seekEventTime finds, between lo and hi (sequences of the app's ticks), the
// first tick with event time ≥ ts: a binary search over sequences, each
// probe the app's next tick at or after the midpoint. It returns hi+1 when
// every tick is earlier. On ticks out of event-time order it moves past a
// probe only when the probe is earlier than ts, so when no tick lags one
// recorded before it by more than d, every tick it moves past is earlier
// than ts + d: Replay seeks to From less its Disorder, and starts at or
// before the first tick at or after From.
func seekEventTime(ctx context.Context, s *bus.StreamReader, filter string, lo, hi uint64, ts int64) (uint64, error) {
	for lo <= hi {
		mid := lo + (hi-lo)/2
		m, err := s.Next(ctx, filter, mid)
		if errors.Is(err, bus.ErrNotFound) {
			return hi + 1, nil
		}
		if err != nil {
			return 0, err
		}
		if m.Seq > hi {
			hi = mid - 1
			continue
		}
		if m.EventTime() >= ts {
			if m.Seq == lo || mid == 0 {
				return m.Seq, nil
			}
			hi = mid - 1
		} else {
			lo = m.Seq + 1
		}
	}
	return lo, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "…"
	}
	return t.UTC().Format(time.RFC3339)
}
