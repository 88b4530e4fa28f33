package bus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/headroomhq/headroom/proto"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"
)

// StreamConfig returns the configuration EnsureStreams applies to kind's stream.
func (b *Bus) StreamConfig(k proto.Kind) jetstream.StreamConfig {
	l := b.cfg.Streams
	storage := jetstream.FileStorage
	if l.Memory {
		storage = jetstream.MemoryStorage
	}
	maxBytes := l.MaxBytes
	if maxBytes == 0 {
		maxBytes = -1
	}
	cfg := jetstream.StreamConfig{
		Name:        proto.StreamName(b.cfg.Prefix, k),
		Description: "Headroom " + string(k) + " (" + proto.PublishFilter(b.cfg.Prefix, k) + ")",
		Subjects:    []string{proto.PublishFilter(b.cfg.Prefix, k)},
		Retention:   jetstream.LimitsPolicy,
		Storage:     storage,
		MaxAge:      l.MaxAge,
		MaxBytes:    maxBytes,
		Replicas:    l.Replicas,
		Duplicates:  l.Duplicates,
		Discard:     jetstream.DiscardOld,
		// Direct gets let a member read a partition's history without
		// creating a consumer. DECISIONS has none: any replica answers a
		// direct get, and one that is behind would tell the executor that
		// no newer decision is stored, so it could act on a superseded
		// one. Its reads go through the stream leader.
		AllowDirect: k != proto.KindDecision,
	}
	if perSeries(k) {
		// One stored subject per series (<prefix>.<kind>.<app>.<tier>,
		// with its partition token): a series past its cap loses its own
		// oldest messages (Discard old), so one app flooding METRICS (and
		// through it ANOMALIES) cannot push every other app's history out
		// through MaxBytes. A stream provisioned without it gets it at the
		// next provisioning (the server then trims every series over it).
		cfg.MaxMsgsPerSubject = l.MaxMsgsPerSeries
	}
	if proto.Partitioned(k) {
		src, dest := proto.PartitionTransform(b.cfg.Prefix, k, max(l.Partitions, 1))
		cfg.SubjectTransform = &jetstream.SubjectTransformConfig{Source: src, Destination: dest}
	}
	return cfg
}

// perSeries reports whether kind's stream has StreamLimits.MaxMsgsPerSeries:
// METRICS, and ANOMALIES, where the anomaly service stores one score per
// tick a series' event time advances by (a millisecond will do), so a
// flood of ticks floods it too. The other stages store at most one message
// per bucket or decision tick whatever the input rate.
func perSeries(k proto.Kind) bool { return k == proto.KindMetrics || k == proto.KindAnomaly }

// EnsureStreams creates every stream, the replica bucket and the lease bucket, or updates them
// to the configured limits when they exist. It is idempotent. Only the
// provisioning identity may call it: under deploy/nats.conf no service can
// create or change a stream (services call WaitStreams instead).
//
// A stream or bucket the server has no file store left to reserve
// (StreamLimits.Reservations) fails it with an error naming it, what it
// asks, what provisioning asks in all and the settings that change it.
func (b *Bus) EnsureStreams(ctx context.Context) error {
	reserve := make(map[string]Reservation)
	for _, r := range b.cfg.Streams.Reservations(b.cfg.Prefix) {
		reserve[r.Stream] = r
	}
	for _, k := range proto.Kinds {
		cfg := b.StreamConfig(k)
		if err := b.warnTrims(ctx, cfg); err != nil {
			return err
		}
		if _, err := b.js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("stream %s: %w", cfg.Name, b.storeRefusal(reserve[cfg.Name], err))
		}
	}
	if _, err := b.replicaBucket(ctx, reserve["KV_"+proto.ReplicaBucket(b.cfg.Prefix)]); err != nil {
		return err
	}
	return b.leaseBucket(ctx, reserve["KV_"+proto.LeaseBucket(b.cfg.Prefix)])
}

// warnTrims logs, before cfg is applied, the series of an existing stream
// that its new or lowered per-series cap trims: the server deletes their
// oldest messages as it takes the update (an upgrade from a release
// without the cap trims a tier ticking every second or so to its last few
// days), and the operator should hear which and how to keep them. It
// says nothing when nothing is trimmed.
func (b *Bus) warnTrims(ctx context.Context, cfg jetstream.StreamConfig) error {
	limit := cfg.MaxMsgsPerSubject
	if limit <= 0 {
		return nil
	}
	s, err := b.js.Stream(ctx, cfg.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", cfg.Name, err)
	}
	if was := s.CachedInfo().Config.MaxMsgsPerSubject; was > 0 && was <= limit {
		return nil
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(">"))
	if err != nil {
		return fmt.Errorf("stream %s subjects: %w", cfg.Name, err)
	}
	var over, trimmed, most uint64
	var largest string
	for subject, n := range info.State.Subjects {
		if n <= uint64(limit) {
			continue
		}
		over++
		trimmed += n - uint64(limit)
		if n > most || n == most && subject < largest {
			most, largest = n, subject
		}
	}
	if over > 0 {
		b.log.Warn().Str("stream", cfg.Name).Int64("per_series", limit).Uint64("series_over", over).
			Uint64("messages_trimmed", trimmed).Str("series", largest).Uint64("largest", most).
			Msg("the per-series cap trims the oldest messages of the series over it now; to keep them, provision with -stream.max-msgs-per-series at least the largest")
	}
	return nil
}

// ReplicaValueMax is the largest value the replica bucket takes. An encoded
// proto.ReplicaState is under 400 bytes (names are at most 64 bytes each).
const ReplicaValueMax = 1 << 10

// ReplicaEntryMax bounds what one key takes in the replica bucket's stream:
// its value, its subject ($KV.<bucket>.<app>.<tier>, at most 175 bytes with
// the longest prefix and names) and the store's per-message overhead.
const ReplicaEntryMax = ReplicaValueMax + 256

// replicaCap is the smallest replica bucket cap under which keys keys can
// each grow to ReplicaEntryMax: a stream checks a put against its cap
// without counting the value the put replaces (a clustered stream always,
// a single server when the new value is larger), so one more entry's room
// must stay free. Room, provisioning and Config.Validate all hold to it.
func replicaCap(keys int64) int64 { return (keys + 1) * ReplicaEntryMax }

// replicaBucket creates or opens the key-value bucket holding each tier's
// replica state (proto.ReplicaState under proto.ReplicaKey), bounded by
// StreamLimits.ReplicaMaxBytes and ReplicaValueMax. A bucket provisioned
// before it had bounds gets them, unless the cap leaves the keys it holds
// no room to change (see Replicas.Room): that is refused, naming the flag.
// r is its file store reservation, for the error when the server has no
// room for it.
func (b *Bus) replicaBucket(ctx context.Context, r Reservation) (jetstream.KeyValue, error) {
	storage := jetstream.FileStorage
	if b.cfg.Streams.Memory {
		storage = jetstream.MemoryStorage
	}
	name := proto.ReplicaBucket(b.cfg.Prefix)
	limit := b.cfg.Streams.ReplicaMaxBytes
	if old, err := b.js.KeyValue(ctx, name); err == nil {
		st, err := old.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("kv bucket %s status: %w", name, err)
		}
		if keys := int64(st.Values()); replicaCap(keys) > limit {
			return nil, fmt.Errorf("kv bucket %s holds %d keys: -stream.replica-max-bytes %d leaves them no room to change (want at least %d)",
				name, keys, limit, replicaCap(keys+1))
		}
	} else if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("kv bucket %s: %w", name, err)
	}
	kv, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       name,
		Description:  "Headroom replica state per app.tier",
		History:      1,
		MaxBytes:     limit,
		MaxValueSize: ReplicaValueMax,
		Storage:      storage,
		Replicas:     b.cfg.Streams.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("kv bucket %s: %w", name, b.storeRefusal(r, err))
	}
	return kv, nil
}

// WaitOption adds to what WaitStreams waits for.
type WaitOption func(*waitFor)

// waitFor is what WaitStreams waits for beyond the streams and the
// replica bucket, which every service uses.
type waitFor struct {
	leases bool
}

// WithLeaseBucket makes WaitStreams wait for the executor's lease bucket
// too. Only the executor uses it: another service waiting for it would
// not be ready, after an upgrade to binaries that have the bucket, until
// provisioning runs again.
func WithLeaseBucket() WaitOption {
	return func(w *waitFor) { w.leases = true }
}

// WaitStreams waits until every stream and the replica bucket exist (and
// the lease bucket, WithLeaseBucket), without creating or changing any,
// logging a warning naming what is missing every warnEvery. A service
// started before provisioning thus waits (its /readyz failing) instead of
// creating streams it has no right to.
func (b *Bus) WaitStreams(ctx context.Context, warnEvery time.Duration, opts ...WaitOption) error {
	var w waitFor
	for _, o := range opts {
		o(&w)
	}
	start := time.Now()
	lastWarn := start
	for {
		missing, err := b.missingStreams(ctx, w)
		if err == nil && len(missing) == 0 {
			return nil
		}
		if now := time.Now(); now.Sub(lastWarn) >= warnEvery {
			lastWarn = now
			ev := b.log.Warn().Strs("missing", missing).Dur("waited", now.Sub(start).Round(time.Second))
			if err != nil {
				ev = ev.Err(err)
			}
			ev.Msg("streams not provisioned yet: run `headroom provision` (or a service with -nats.provision) as the provisioning user")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("streams %v not provisioned: %w", missing, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// missingStreams lists the streams (and the buckets' streams) w names,
// beside every stream and the replica bucket, that do not exist yet.
func (b *Bus) missingStreams(ctx context.Context, w waitFor) ([]string, error) {
	names := make([]string, 0, len(proto.Kinds)+2)
	for _, k := range proto.Kinds {
		names = append(names, proto.StreamName(b.cfg.Prefix, k))
	}
	names = append(names, "KV_"+proto.ReplicaBucket(b.cfg.Prefix))
	if w.leases {
		names = append(names, "KV_"+proto.LeaseBucket(b.cfg.Prefix))
	}
	var missing []string
	for _, n := range names {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := b.js.Stream(cctx, n)
		cancel()
		switch {
		case errors.Is(err, jetstream.ErrStreamNotFound):
			missing = append(missing, n)
		case err != nil:
			return append(missing, n), fmt.Errorf("stream %s: %w", n, err)
		}
	}
	return missing, nil
}

// openReplicaBucket opens the replica bucket, which provisioning created.
func (b *Bus) openReplicaBucket(ctx context.Context) (jetstream.KeyValue, error) {
	name := proto.ReplicaBucket(b.cfg.Prefix)
	kv, err := b.js.KeyValue(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("kv bucket %s: %w", name, err)
	}
	return kv, nil
}

// LastMsg returns the stream sequence and payload of the last message
// stored on subject in kind's stream; seq 0 if there is none.
func (b *Bus) LastMsg(ctx context.Context, k proto.Kind, subject string) (seq uint64, data []byte, err error) {
	s, err := b.stream(ctx, k)
	if err != nil {
		return 0, nil, err
	}
	m, err := lastStored(ctx, s, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("last message on %s: %w", subject, err)
	}
	return m.Sequence, m.Data, nil
}

// lastStored returns the last message of s published on subject, stored
// with its partition token or, in a stream provisioned before partitions,
// without; jetstream.ErrMsgNotFound when there is none.
func lastStored(ctx context.Context, s jetstream.Stream, subject string) (*jetstream.RawStreamMsg, error) {
	m, err := s.GetLastMsgForSubject(ctx, subject+".*")
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		m, err = s.GetLastMsgForSubject(ctx, subject)
	}
	return m, err
}

// stream returns kind's stream.
func (b *Bus) stream(ctx context.Context, k proto.Kind) (jetstream.Stream, error) {
	s, err := b.js.Stream(ctx, proto.StreamName(b.cfg.Prefix, k))
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", proto.StreamName(b.cfg.Prefix, k), err)
	}
	return s, nil
}

// LastEventTimes returns, for every subject of kind's stream matching filter
// (a stored-subject filter such as proto.StoredFilter or
// proto.PartitionFilter), the event time of the last message stored on it
// (from the Headroom-Ts header), keyed by the subject it was published on
// (without its partition). Stateful services use it after a restart, and a
// member taking over a partition, to know what was already published.
// The stream's leader answers, as it answers the subjects: a direct get
// may be answered by a replica behind it, whose older last message would
// have the stage publish again what the stream holds already.
func (b *Bus) LastEventTimes(ctx context.Context, k proto.Kind, filter string) (map[string]time.Time, error) {
	last, err := b.LastMessages(ctx, k, filter)
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Time, len(last))
	for subj, m := range last {
		out[subj] = m.EventTime
	}
	return out, nil
}

// LastMsg is the last message stored on a subject (see LastMessages).
type LastMsg struct {
	// EventTime is its Headroom-Ts header's time.
	EventTime time.Time
	// Data is its payload, as stored.
	Data []byte
}

// LastMessages is LastEventTimes with each last message's payload: the
// decider reads the count its last decision stored was decided from.
func (b *Bus) LastMessages(ctx context.Context, k proto.Kind, filter string) (map[string]LastMsg, error) {
	s, err := b.stream(ctx, k)
	if err != nil {
		return nil, err
	}
	name := proto.StreamName(b.cfg.Prefix, k)
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return nil, fmt.Errorf("stream %s info: %w", name, err)
	}
	out := make(map[string]LastMsg, len(info.State.Subjects))
	for subj := range info.State.Subjects {
		m, err := b.leaderGet(ctx, name, leaderGetRequest{LastFor: subj})
		if err != nil {
			return nil, fmt.Errorf("last message on %s: %w", subj, err)
		}
		if m == nil {
			continue
		}
		var h nats.Header
		if len(m.Header) > 0 {
			if h, err = nats.DecodeHeadersMsg(m.Header); err != nil {
				return nil, fmt.Errorf("last message on %s: %w", subj, err)
			}
		}
		ms, ok := headerTime(h)
		if !ok {
			return nil, fmt.Errorf("last message on %s: no readable %s header", subj, HeaderEventTime)
		}
		pub, _ := proto.SplitStored(b.cfg.Prefix, subj)
		if t := proto.Time(ms); t.After(out[pub].EventTime) {
			out[pub] = LastMsg{EventTime: t, Data: m.Data}
		}
	}
	return out, nil
}

// StoredTicks is what EventTimesSince read on a subject.
type StoredTicks struct {
	// Ticks are the event times (Unix ms, the Headroom-Ts header) of its
	// messages, in the order stored.
	Ticks []int64
	// Marked are those of Ticks whose payload the caller's mark picked.
	Marked []int64
}

// EventTimesSince returns, for each subject of kind's stream in since
// (as published, whichever partition stores it), the event times of its
// messages stored at or after since's time for it, in the order stored (a
// subject stored in several partitions has theirs in one list, in stream
// order), and which of them mark picks by their payload (nil: none). A
// decider taking a partition over reads which ticks its tiers have a
// decision stored for, and which of those were changes: a change the
// member before dropped unstored behind stored holds leaves its tick out
// (Apps.SetStoredTicks), so the list must leave out no message it spans.
// It starts after any message without a readable header (whose tick is
// unknown), and after any message the stream's retention removed during
// the read: the read then reads on past what was removed, and a list
// spanning it would miss messages that were stored.
//
// The stream's leader answers, one message a request, as it answers
// LastMessages: DECISIONS allows no direct gets (a replica behind the
// leader would answer them, and a message it lacked would read as one
// never stored), and the decider may create no consumer on it. So it costs
// a request a message (BenchmarkEventTimesSince: some 70 µs each on an
// embedded server), eventTimesWalks subjects at a time: callers bound
// what they ask for by their since. A request that times out or finds no
// responders is asked again, up to eventTimesGetAttempts in all, so one
// lost among a partition's many fails no read; a refusal fails it.
func (b *Bus) EventTimesSince(ctx context.Context, k proto.Kind, since map[string]time.Time, mark func(data []byte) bool) (map[string]StoredTicks, error) {
	name := proto.StreamName(b.cfg.Prefix, k)
	walked := make(map[string][]storedTime, len(since))
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(eventTimesWalks)
	for subject, t := range since {
		g.Go(func() error {
			ticks, err := b.eventTimesOn(gctx, name, b.storedFilter(k, subject), t, mark)
			if err != nil {
				return fmt.Errorf("event times on %s since %s: %w", subject, t.Format(time.RFC3339), err)
			}
			mu.Lock()
			defer mu.Unlock()
			walked[subject] = ticks
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if len(walked) == 0 {
		return map[string]StoredTicks{}, nil
	}
	// The stream's retention removes its oldest messages first (MaxAge,
	// MaxBytes with Discard old; DECISIONS has no per-subject cap): a
	// message at or after its first sequence now was there when the walk
	// passed it, so what was read from there on misses none.
	s, err := b.stream(ctx, k)
	if err != nil {
		return nil, err
	}
	info := s.CachedInfo()
	first := info.State.FirstSeq
	if info.Config.MaxMsgsPerSubject > 0 {
		// A per-subject cap (one set on the stream by hand) trims a
		// subject's oldest behind no first sequence of the stream's: no
		// list can be known whole, so none lists anything.
		first = math.MaxUint64
	}
	out := make(map[string]StoredTicks, len(walked))
	for subject, ticks := range walked {
		st := StoredTicks{Ticks: make([]int64, 0, len(ticks))}
		for _, t := range ticks {
			if t.seq < first {
				continue
			}
			st.Ticks = append(st.Ticks, t.ms)
			if t.marked {
				st.Marked = append(st.Marked, t.ms)
			}
		}
		out[subject] = st
	}
	return out, nil
}

// eventTimesWalks is how many subjects EventTimesSince reads at once:
// each waits on the leader's answer to one request at a time, so the
// read is bound by round trips, not by the leader's work. 16 rather than
// 4 took BenchmarkEventTimesSince's 100 tiers × 512 ticks
// (HEADROOM_BENCH_LARGE=1) from 3.0 s to 2.2 s on a 2-core machine's
// loopback (stop 61), and gains more where a round trip is longer than
// loopback's.
const eventTimesWalks = 16

// storedTime is a message's stream sequence, event time (Unix ms) and
// whether EventTimesSince's mark picked it.
type storedTime struct {
	seq    uint64
	ms     int64
	marked bool
}

// eventTimesWalked runs after each message EventTimesSince reads; tests
// change the stream there to hit the races.
var eventTimesWalked = func() {}

// eventTimesGetAttempts bounds the leader gets EventTimesSince makes for
// one message: a walk makes one a message (some 640 k for a full
// partition's tiers), and without a retry one lost to a leader election or
// a pause would fail the whole read, and the take-over reading, which is
// then retried from its start. The attempts after a failure wait
// eventTimesRetryPause, doubling (RefusedBackoff's doubling).
const eventTimesGetAttempts = 3

// eventTimesRetryPause is the wait before the second attempt of a get.
var eventTimesRetryPause = 250 * time.Millisecond

// eventTimesGetFault runs before each leader get EventTimesSince makes;
// tests return an error from it to fail that get.
var eventTimesGetFault = func() error { return nil }

// eventTimesGet is leaderGet for req, asked again (up to
// eventTimesGetAttempts in all) when an attempt fails for a reason that
// passes (transientGetErr): the walk goes on from the sequence it asked
// for. A refusal, or ctx's end, fails at once.
func (b *Bus) eventTimesGet(ctx context.Context, stream string, req leaderGetRequest) (*leaderMsg, error) {
	for n := 1; ; n++ {
		m, err := func() (*leaderMsg, error) {
			if err := eventTimesGetFault(); err != nil {
				return nil, err
			}
			return b.leaderGet(ctx, stream, req)
		}()
		if err == nil || !transientGetErr(ctx, err) {
			return m, err
		}
		if n >= eventTimesGetAttempts {
			return nil, fmt.Errorf("%d attempts: %w", n, err)
		}
		wait := RefusedBackoff(eventTimesRetryPause, n)
		b.log.Warn().Err(err).Str("stream", stream).Str("filter", req.NextFor).Uint64("seq", req.Seq).
			Int("attempt", n).Dur("wait", wait).Msg("leader get failed; asking again")
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
	}
}

// transientGetErr reports whether a leader get's err may pass by asking
// again: the request timed out (its own deadline, not ctx's: nobody
// answered, as between a leader's death and the next election, or the
// leader paused) or found no responders. A refusal (IsRefused) or an
// error the leader answered with does not.
func transientGetErr(ctx context.Context, err error) bool {
	if ctx.Err() != nil || IsRefused(err) {
		return false
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders)
}

// eventTimesOn walks filter's messages in stream from the first stored at
// or after since, one leader get each, and returns their sequences, event
// times and marks, from after the last one without a readable header.
func (b *Bus) eventTimesOn(ctx context.Context, stream, filter string, since time.Time, mark func([]byte) bool) ([]storedTime, error) {
	var out []storedTime
	req := leaderGetRequest{NextFor: filter, StartTime: &since}
	for {
		m, err := b.eventTimesGet(ctx, stream, req)
		if err != nil || m == nil {
			return out, err
		}
		eventTimesWalked()
		req = leaderGetRequest{NextFor: filter, Seq: m.Seq + 1}
		ms, ok := int64(0), false
		if len(m.Header) > 0 {
			if h, err := nats.DecodeHeadersMsg(m.Header); err == nil {
				ms, ok = headerTime(h)
			}
		}
		if !ok {
			// Its tick is unknown, and could be any between its
			// neighbours': none of those before it is judged.
			out = out[:0]
			continue
		}
		out = append(out, storedTime{seq: m.Seq, ms: ms, marked: mark != nil && mark(m.Data)})
	}
}
