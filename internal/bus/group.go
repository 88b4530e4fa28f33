package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/synadia-io/orbit.go/jetstreamext"

	"github.com/headroomhq/headroom/proto"
)

// GroupSpec makes a consumer this process's share of its service's group:
// every copy of the service started against the same NATS joins the group
// (see member), the kind's partitions are split among the members, and each
// partition is read through its own durable consumer, named
// <Name>-p<partition>, that the server delivers to one member at a time.
// A member that stops hands its partitions over as it drains; one that dies
// loses them once its pin expires (PinnedTTL) and the others have seen it
// gone (GroupCheck), well within 30 s. A live member keeps its pins however
// long its handler takes over a backlog (see pinKeeper).
type GroupSpec struct {
	// Acquire, if set, is called when this member takes partition p,
	// before any of its messages is handled; a stateful stage reloads what
	// it had published for the partition's apps (its watermarks) here.
	Acquire func(ctx context.Context, p int) error
	// Release, if set, is called once this member has stopped handling
	// partition p (every message acknowledged); the stage drops the state
	// of the partition's apps.
	Release func(p int)
	// Rebuild replays the partition's recorded history through the handler
	// before live delivery (from ConsumerSpec.StartTime, else the start of
	// the stream), so a stage rebuilds the state of the apps it takes over;
	// live delivery then skips what the replay handled. The inputs of a
	// group are replayed together, their messages handled one at a time in
	// the order they were stored across the streams (see mergeGate). Outputs of the
	// replay are published like any other (their ids make repeats no-ops).
	Rebuild bool
	// Lookback, if set, bounds a rebuild to what the stage's state needs:
	// the messages stored within Lookback of the stream's last one. It is
	// measured on the stream's own timestamps, never the clock, so the
	// same stream rebuilds the same state; a backfill stored in a burst is
	// replayed whole (more than needed, never less).
	Lookback time.Duration
	// Returning, if set, is asked before each live message (one call at a
	// time, like the handler) whether the stage dropped the state the
	// message belongs to, evicted for idleness, and wants it back: it
	// names the app and the tier ("" for every tier of the app) and takes
	// the stage's mark, so it answers yes once. The runtime then replays
	// that app's recorded messages on every input of the group, from
	// Lookback before the message's arrival through what each input has
	// handled, as a take-over's rebuild does (nothing stored is stored
	// again), and then hands the message on: a returning series resumes
	// from its history, not from empty. A replay that fails is owed: the
	// app's next message (the failed one's redelivery) goes on with it
	// from where it stopped, so the stage is handed each message once.
	Returning func(m *Msg) (app, tier string, ok bool)
	// Repinned, if set, is called before this member handles a message of
	// partition p that the server delivered under a pin other than the one
	// of the messages before it: the durable was pinned afresh while its
	// partition stayed this member's, so Acquire is not called again. This
	// member lost the pin, cut off from the server past PinnedTTL, and had
	// it back; or the consumer's leader changed (the pin is not
	// replicated); or a message came with a Nats-Pin-Id its publisher
	// set, after which the bus unpins the durable (see the package doc):
	// the forged id itself neither calls Repinned nor hides a real repin.
	// A member busy with a backlog, or in one long handler call, renews
	// its pin meanwhile (pinKeeper) and keeps it.
	// Another member that believed it owned the partition may have read
	// the durable meanwhile and acted: a stage that keeps what it read
	// from a store its members share (the executor's replica states) drops
	// it here, as it does in Acquire, so it goes on from what the other
	// member left rather than from its own view of before. It is called
	// one call at a time with the handler, before a gap's top-up hands
	// the handler anything.
	//
	// Messages the client had already received under the old pin are
	// handled before it, as ever (the server takes no delivery back): a
	// member cut off past PinnedTTL handles them while another may be
	// pinned. Each of them was delivered to this member
	// alone, and another member gets it only once its AckWait has passed
	// unacknowledged.
	Repinned func(p int)
}

// pinGroup is the priority group every partition consumer pins.
const pinGroup = "members"

// Variables only so that tests can shorten them (SetPinTimes).
var (
	// pinnedTTL is how long a member's pin outlives its last pull request
	// (Consume's, or pinKeeper's renewals while the handler is busy): the
	// longest a dead member's partitions wait for another to take them.
	pinnedTTL = 10 * time.Second
	// pullExpiry is how long a pull request waits for messages; a pinned
	// member renews its pull well inside pinnedTTL even when idle.
	pullExpiry = 3 * time.Second
)

// Partitions returns how many partitions kind's stream was provisioned with
// (1 for a stream without a partition transform).
func (b *Bus) Partitions(ctx context.Context, k proto.Kind) (int, error) {
	s, err := b.stream(ctx, k)
	if err != nil {
		return 0, err
	}
	t := s.CachedInfo().Config.SubjectTransform
	if t == nil {
		return 1, nil
	}
	return proto.PartitionsOf(t.Destination)
}

// GroupInput is one stream a group stage reads: its consumer settings (the
// durable's base name, kind, ack wait, …) and its handler.
type GroupInput struct {
	Spec    ConsumerSpec
	Handler Handler
}

// ConsumeGroup runs a stage that reads several streams as one member of
// service's group, until ctx ends: the decider joins an app's metrics,
// forecasts and anomalies, so a partition's three inputs move between
// members together, with one Acquire and one Release. started, if set, is
// called once the member's first share is taken over and consuming.
func (b *Bus) ConsumeGroup(ctx context.Context, service string, g GroupSpec, started func(), inputs ...GroupInput) error {
	return b.consumeGroup(ctx, service, g, started, inputs)
}

// consumeGroup runs the partition workers this member owns, starting and
// stopping them as the group's members change, until ctx ends.
func (b *Bus) consumeGroup(ctx context.Context, service string, g GroupSpec, startedFn func(), inputs []GroupInput) error {
	if err := proto.CheckToken("service", service); err != nil {
		return err
	}
	n := 0
	for _, in := range inputs {
		if !proto.Partitioned(in.Spec.Kind) {
			return fmt.Errorf("consumer %s: kind %s is not partitioned, it cannot be shared by a group", in.Spec.Name, in.Spec.Kind)
		}
		k, err := b.Partitions(ctx, in.Spec.Kind)
		if err != nil {
			return err
		}
		if n != 0 && k != n {
			return fmt.Errorf("group %s: its streams have %d and %d partitions: provision them alike", service, n, k)
		}
		n = k
	}
	m, err := b.join(service)
	if err != nil {
		return err
	}
	defer b.leave(m)
	log := b.log.With().Str("consumer", inputs[0].Spec.Name).Str("group", m.name).Logger()

	// The partitions' workers run side by side, but the stage sees one call
	// at a time, as with a single consumer: its handlers and hooks are not
	// required to be safe for concurrent use.
	var mu sync.Mutex
	locked := make([]GroupInput, len(inputs))
	for i, in := range inputs {
		inner := in.Handler
		in.Spec.defaults()
		in.Handler = func(ctx context.Context, msg *Msg) ([]Out, error) {
			mu.Lock()
			defer mu.Unlock()
			return inner(ctx, msg)
		}
		locked[i] = in
	}
	inputs = locked
	if acquire := g.Acquire; acquire != nil {
		g.Acquire = func(ctx context.Context, p int) error {
			mu.Lock()
			defer mu.Unlock()
			return acquire(ctx, p)
		}
	}
	if release := g.Release; release != nil {
		g.Release = func(p int) {
			mu.Lock()
			defer mu.Unlock()
			release(p)
		}
	}

	if repinned := g.Repinned; repinned != nil {
		g.Repinned = func(p int) {
			mu.Lock()
			defer mu.Unlock()
			repinned(p)
		}
	}
	if returning := g.Returning; returning != nil {
		g.Returning = func(m *Msg) (string, string, bool) {
			mu.Lock()
			defer mu.Unlock()
			return returning(m)
		}
	}

	type worker struct {
		cancel context.CancelFunc
		done   chan struct{}
	}
	workers := map[int]*worker{}
	// Started fires once the first share is rebuilt and consuming.
	var initial sync.WaitGroup
	first := true
	stopWorker := func(p int) {
		w := workers[p]
		w.cancel()
		<-w.done
		delete(workers, p)
	}
	defer func() {
		for p := range workers {
			stopWorker(p)
		}
	}()
	for {
		members, changed := m.view()
		if members == nil { // not known yet: taking everything would be wrong
			select {
			case <-ctx.Done():
				return nil
			case <-changed:
				continue
			}
		}
		want := map[int]bool{}
		for _, p := range owned(members, m.id(), n) {
			want[p] = true
		}
		for p := range workers {
			if !want[p] {
				log.Info().Int("partition", p).Msg("handing partition over")
				stopWorker(p)
			}
		}
		for p := range want {
			if workers[p] != nil {
				continue
			}
			wctx, cancel := context.WithCancel(ctx)
			w := &worker{cancel: cancel, done: make(chan struct{})}
			workers[p] = w
			started := func() {}
			if first {
				initial.Add(1)
				var once sync.Once
				started = func() { once.Do(initial.Done) }
			}
			go func() {
				defer close(w.done)
				defer started() // a worker that fails must not hold readiness forever
				key := partitionKey(service, p)
				defer b.partitions.set(key, nil) // handed over: no longer this member's to consume
				// A refusal (its durable not provisioned) does not
				// heal by itself: logged seldom (RefusedLevel), the
				// streak starting again after a run that consumed.
				var streak RefusalStreak
				var consumed atomic.Bool // set by another goroutine
				for attempt := 1; ; attempt++ {
					err := b.runPartition(wctx, g, inputs, p, started, func() {
						consumed.Store(true)
						b.partitions.set(key, nil)
					}, log)
					if wctx.Err() != nil {
						return
					}
					b.partitions.set(key, err)
					if consumed.Swap(false) {
						streak = RefusalStreak{}
					}
					log.WithLevel(RefusedLevel(streak.Add(err), zerolog.ErrorLevel)).Err(err).Int("partition", p).Int("attempt", attempt).
						Msg("partition worker failed, restarting it")
					select {
					case <-wctx.Done():
						return
					case <-time.After(min(time.Duration(attempt)*time.Second, 10*time.Second)):
					}
				}
			}()
		}
		log.Info().Int("members", len(members)).Int("partitions", n).Int("owned", len(want)).Msg("group share")
		if first {
			first = false
			if startedFn != nil {
				go func() {
					initial.Wait()
					if ctx.Err() == nil {
						startedFn()
					}
				}()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// runPartition handles partition p of every input until ctx ends: take the
// partition over (acquire, rebuild), then live delivery through each
// input's pinned durable; on the way out it unpins the durables so the next
// owner takes over at once, then releases.
//
// Taking over must not race the previous owner: its last outputs must be
// stored and everything it handled visible to the rebuild. So it waits
// until no client holds any of the partition's pins (an owner that stopped
// unpinned them; a dead one's lapse after PinnedTTL) before rebuilding. A
// member that thought it owned the partition meanwhile may still have
// handled some messages: each input tops its rebuild up with them on its
// first delivery, when the server has made this member its only reader.
func (b *Bus) runPartition(ctx context.Context, g GroupSpec, inputs []GroupInput, p int, started, consuming func(), log zerolog.Logger) error {
	log = log.With().Int("partition", p).Logger()
	specs := make([]ConsumerSpec, len(inputs))
	for i, in := range inputs {
		specs[i] = b.partitionSpec(in.Spec, p)
		specs[i].held = newHeldAcks(b.metrics.handled.WithLabelValues(specs[i].Name, "ack").Inc)
		specs[i].rebuilds = g.Rebuild
	}
	for wait := time.Duration(0); ; wait = min(wait+250*time.Millisecond, 2*time.Second) {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		free := true
		for _, ps := range specs {
			if !b.unpinned(ctx, ps.Kind, ps.Name) {
				free = false
				break
			}
		}
		if free {
			break
		}
	}
	if g.Acquire != nil {
		if err := g.Acquire(ctx, p); err != nil {
			return fmt.Errorf("acquire partition %d: %w", p, err)
		}
	}
	defer func() {
		if g.Release != nil {
			g.Release(p)
		}
	}()
	through := make([]uint64, len(inputs)) // each input rebuilt through this sequence
	// handled is, per input, the last sequence handled (rebuilt or live):
	// a returning app's replay reads each input no further.
	handled := make([]atomic.Uint64, len(inputs))
	owed := &owedRecalls{}
	// topUp rebuilds input i from where its rebuild ended (the start, the
	// first time), its messages merged with the other inputs' by merge
	// when set.
	topUp := func(ctx context.Context, i int, merge *mergeGate, inCallback bool) (uint64, error) {
		if !g.Rebuild {
			return 0, nil
		}
		in, ps := inputs[i], specs[i]
		began := time.Now()
		rs := in.Spec
		rs.held = ps.held
		rs.merge, rs.mergeInput = merge, i
		rs.inCallback = inCallback
		h := in.Handler
		var refusedAt uint64 // the message the service's gate refused, 0: none
		if inCallback {
			h = func(ctx context.Context, m *Msg) ([]Out, error) {
				outs, err := in.Handler(ctx, m)
				if IsBackpressure(err) {
					refusedAt = m.Seq
				}
				return outs, err
			}
		}
		last, n, err := b.rebuild(ctx, rs, ps.Name, ps.Filters[0], through[i]+1, g.Lookback, h)
		if err != nil {
			if IsBackpressure(err) && refusedAt > through[i]+1 {
				// Held back by the gate (rebuildOne): what came before
				// the refused message is handled, and the top-up goes on
				// from it once the gate opens, not from the start again.
				through[i] = refusedAt - 1
				storeMax(&handled[i], through[i])
			}
			return 0, fmt.Errorf("rebuild %s partition %d: %w", in.Spec.Kind, p, err)
		}
		log.Info().Str("kind", string(in.Spec.Kind)).Int("messages", n).Uint64("from_seq", through[i]+1).Uint64("through_seq", last).
			Dur("took", time.Since(began)).Msg("partition taken over")
		through[i] = last
		storeMax(&handled[i], last)
		return last, nil
	}
	// The inputs are rebuilt together, their messages handled in the
	// order they were stored across the inputs (mergeGate), as live
	// delivery would: one after the other, a stage joining them would hold
	// the whole lookback of the first while it waits for the others.
	if err := replayMerged(ctx, len(inputs), func(ctx context.Context, i int, gate *mergeGate) error {
		_, err := topUp(ctx, i, gate, false)
		return err
	}); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(inputs))
	var startedWG sync.WaitGroup
	startedWG.Add(len(inputs))
	var begun atomic.Int32 // inputs whose consumer delivers
	for i := range inputs {
		ps := specs[i]
		var once sync.Once
		done := func() { once.Do(startedWG.Done) }
		ps.Started = func() {
			done()
			if begun.Add(1) == int32(len(inputs)) {
				consuming()
			}
		}
		ps.onPinned = func(ctx context.Context) (uint64, error) { return topUp(ctx, i, nil, true) }
		if g.Repinned != nil {
			ps.onRepinned = func() { g.Repinned(p) }
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer done()
			errs[i] = b.Consume(ctx, ps, b.returningHandler(g, inputs, i, handled, owed, log))
		}()
	}
	go func() {
		startedWG.Wait()
		started()
	}()
	wg.Wait()
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for _, ps := range specs {
		if s, serr := b.stream(uctx, ps.Kind); serr == nil {
			if uerr := s.UnpinConsumer(uctx, ps.Name, pinGroup); uerr != nil && !errors.Is(uerr, jetstream.ErrConsumerNotFound) {
				log.Debug().Err(uerr).Msg("unpin")
			}
		}
	}
	return errors.Join(errs...)
}

// TierReturning is a GroupSpec.Returning for a stage that keeps its state
// per app and tier: it asks returning (the stage's own "was it evicted,
// and is it back?") for the tier a message is published on, and calls
// counted for each tier that is.
func (b *Bus) TierReturning(returning func(app, tier string) bool, counted func()) func(*Msg) (app, tier string, ok bool) {
	return func(m *Msg) (string, string, bool) {
		_, app, tier, err := proto.ParseSubject(b.cfg.Prefix, m.Subject)
		if err != nil || !returning(app, tier) {
			return "", "", false
		}
		counted()
		return app, tier, true
	}
}

// returningHandler is input i's live handler on its partition: it records
// each sequence handled and, when the stage says a message's app is
// returning (GroupSpec.Returning), replays the app's history first.
func (b *Bus) returningHandler(g GroupSpec, inputs []GroupInput, i int, handled []atomic.Uint64, owed *owedRecalls, log zerolog.Logger) Handler {
	h := inputs[i].Handler
	return func(ctx context.Context, msg *Msg) ([]Out, error) {
		if g.Returning != nil {
			var resume []uint64
			app, tier, ok := g.Returning(msg)
			if ok {
				owed.drop(app, tier) // dropped again: replayed whole
			} else {
				app, tier, resume, ok = owed.take(b.cfg.Prefix, msg)
			}
			if ok {
				if progress, err := b.recall(ctx, g, inputs, i, handled, msg, app, tier, resume, log); err != nil {
					// The stage's mark is taken: owe the rest of the
					// replay, so the redelivered message (or the app's
					// next) makes it.
					owed.add(app, tier, progress)
					return nil, err
				}
			}
		}
		outs, err := h(ctx, msg)
		if !IsBackpressure(err) { // kept for later, not handled
			storeMax(&handled[i], msg.Seq)
		}
		return outs, err
	}
}

// recall replays app's (and tier's, unless "") recorded messages on every
// input, from g.Lookback before msg's arrival (the
// whole stream without a lookback) through what each input has handled,
// msg's own input stopping before msg. Everything replayed was handled
// before, so a handler error only rebuilds less, as in rebuild.
//
// resume, when set, is what a failed recall of the app handed each input's
// handler (the last sequence, 0 for none), returned as progress: the stage
// kept it, so the retry goes on after it rather than from the start, which
// would hand the stage those messages twice (a stage that counts its
// inputs would count them twice). An input the failed recall had begun
// goes on from its next message, its lookback not applied again: the
// messages it had handled all came after the lookback's start, and the
// retry's lookback (from a later message of the app) may start after them.
func (b *Bus) recall(ctx context.Context, g GroupSpec, inputs []GroupInput, i int, handled []atomic.Uint64, msg *Msg, app, tier string, resume []uint64, log zerolog.Logger) (progress []uint64, err error) {
	var start time.Time
	if g.Lookback > 0 {
		start = msg.Stored.Add(-g.Lookback)
	}
	if tier == "" {
		tier = "*"
	}
	progress = make([]uint64, len(inputs))
	copy(progress, resume)
	began := time.Now()
	var total atomic.Int64
	// The inputs are replayed together, merged by stored time, as a
	// take-over's rebuild is (mergeGate). Input j's replay alone writes
	// progress[j].
	if err := replayMerged(ctx, len(inputs), func(ctx context.Context, j int, gate *mergeGate) error {
		in := inputs[j]
		last := handled[j].Load()
		if j == i {
			last = min(last, msg.Seq-1)
		}
		from, since := uint64(1), start
		if progress[j] > 0 {
			from, since = progress[j]+1, time.Time{}
		}
		if last == 0 || from > last {
			return nil
		}
		rs := in.Spec
		rs.merge, rs.mergeInput = gate, j
		filter := b.storedFilter(in.Spec.Kind, proto.Subject(b.cfg.Prefix, in.Spec.Kind, app, tier))
		h := func(ctx context.Context, m *Msg) ([]Out, error) {
			outs, err := in.Handler(ctx, m)
			progress[j] = m.Seq
			return outs, err
		}
		n, err := b.replayRange(ctx, rs, filter, from, since, last, last, h)
		total.Add(int64(n))
		if err != nil {
			return fmt.Errorf("recall %s of returning app %s: %w", in.Spec.Kind, app, err)
		}
		return nil
	}); err != nil {
		return progress, err
	}
	ev := log.Info().Str("app", app).Str("tier", tier).Int64("messages", total.Load()).Dur("took", time.Since(began))
	if resume != nil {
		ev = ev.Bool("resumed", true)
	}
	ev.Msg("returning app rebuilt from its recorded inputs")
	return progress, nil
}

// owedRecalls are a partition's returning apps whose replay failed (the
// stage's mark already taken): the next message of the app retries it,
// from where the failed one had got to on each input.
type owedRecalls struct {
	mu   sync.Mutex
	owed map[[2]string][]uint64 // app, tier ("" for the whole app): per input, the last sequence handled
}

func (o *owedRecalls) add(app, tier string, progress []uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.owed == nil {
		o.owed = map[[2]string][]uint64{}
	}
	o.owed[[2]string{app, tier}] = progress
}

// drop forgets a replay owed to app and tier: the stage dropped their
// state again and asks for a whole replay.
func (o *owedRecalls) drop(app, tier string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.owed, [2]string{app, tier})
}

// take returns, and forgets, a replay owed to msg's app (or its tier),
// with the progress of the one that failed.
func (o *owedRecalls) take(prefix string, msg *Msg) (app, tier string, progress []uint64, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.owed) == 0 {
		return "", "", nil, false
	}
	_, app, tier, err := proto.ParseSubject(prefix, msg.Subject)
	if err != nil {
		return "", "", nil, false
	}
	for _, k := range [][2]string{{app, ""}, {app, tier}} {
		if p, found := o.owed[k]; found {
			delete(o.owed, k)
			return k[0], k[1], p, true
		}
	}
	return "", "", nil, false
}

// storeMax raises v to seq.
func storeMax(v *atomic.Uint64, seq uint64) {
	for {
		old := v.Load()
		if seq <= old || v.CompareAndSwap(old, seq) {
			return
		}
	}
}

// unpinned reports whether no client holds durable's pin (or the durable
// does not exist yet), so a new owner may take its partition over at once.
func (b *Bus) unpinned(ctx context.Context, k proto.Kind, durable string) bool {
	c, err := b.js.Consumer(ctx, proto.StreamName(b.cfg.Prefix, k), durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return true
	}
	if err != nil {
		return false
	}
	for _, pg := range c.CachedInfo().PriorityGroups {
		if pg.PinnedClientID != "" {
			return false
		}
	}
	return true
}

// rebuild feeds the handler every message of filter recorded from sequence
// from up to the stream's last sequence now, in order, through batched
// direct gets (no consumer is created, so nothing is acknowledged or
// redelivered), and returns that sequence and how many messages it handled. Messages up to
// the partition durable's acknowledgement floor were handled before, by
// this member or another: they only rebuild state, and a handler error is
// ignored. Messages after it may never have been handled (the member that
// had them died), so they are handled as live delivery would: a transient
// error is retried, a permanent one, or the last retry, dead-letters them.
func (b *Bus) rebuild(ctx context.Context, spec ConsumerSpec, durable, filter string, from uint64, lookback time.Duration, h Handler) (last uint64, n int, err error) {
	s, err := b.stream(ctx, spec.Kind)
	if err != nil {
		return 0, 0, err
	}
	// The stream leader's count of the partition's messages, taken with
	// last, checks the read: direct gets may be answered by a replica that
	// is behind (a cluster that just lost a node, or one slow to apply
	// what the leader stored), and a short read must fail the take-over,
	// never skip messages. (replayRange asks the leader before it takes a
	// replica's "no messages" for the end, which also covers a top-up,
	// from > 1, that has no count to check.)
	// The count is taken between two reads of the last sequence: every
	// message at or before the first (counted) was stored before the
	// count, and every message counted is at or before the second (last).
	prior, err := s.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("stream info: %w", err)
	}
	counted, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return 0, 0, fmt.Errorf("stream info: %w", err)
	}
	var stored uint64
	for _, c := range counted.State.Subjects {
		stored += c
	}
	rebuildCounted()
	info, err := s.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("stream info: %w", err)
	}
	last = info.State.LastSeq
	byLookback := false
	if from <= 1 && spec.StartTime.IsZero() && lookback > 0 {
		if start := info.State.LastTime.Add(-lookback); start.After(info.State.FirstTime) {
			spec.StartTime, byLookback = start, true
		}
	}
	if stored == 0 {
		// None of the partition's messages was stored through the
		// sequence read before the count. Any stored since (before last)
		// was not counted: the rebuild ends before them, and the next
		// top-up or the live delivery handles them. Ending at last would
		// skip them for good (a take-over racing the first messages of a
		// partition lost them, and the stages' state then depended on
		// that race).
		return prior.State.LastSeq, 0, nil
	}
	defer func() {
		if err == nil && from <= 1 && spec.StartTime.IsZero() && uint64(n) < stored {
			err = fmt.Errorf("read %d of the %d messages the stream holds on %s through sequence %d (a replica behind?)", n, stored, filter, last)
		}
	}()
	name := proto.StreamName(b.cfg.Prefix, spec.Kind)
	floor, err := b.ackFloor(ctx, name, durable)
	if err != nil {
		return 0, 0, err
	}
	if byLookback && floor > 0 {
		// Messages after the durable's floor may never have been handled:
		// the rebuild starts at the floor when that is before the lookback.
		first, err := b.firstSeqSince(ctx, name, filter, spec.StartTime)
		if err != nil {
			return 0, 0, err
		}
		if first > floor+1 {
			spec.StartTime, from = time.Time{}, floor+1
		}
	}
	start := time.Time{}
	if from <= 1 {
		start = spec.StartTime
	}
	n, err = b.replayRange(ctx, spec, filter, max(info.State.FirstSeq, from), start, last, floor, h)
	return last, n, err
}

// rebuildCounted runs between a rebuild's count of the partition's
// messages and its read of the stream's last sequence; tests store a
// message there to hit the race.
var rebuildCounted = func() {}

// replayRange feeds the handler filter's messages from sequence next (or,
// with start set, from the first stored at or after start) through last,
// in order, through batched direct gets, and returns how many it handled.
// Messages after floor may never have been handled and are handled as live
// delivery would (see rebuildOne). Any replica answers a direct get, one
// behind the leader too, so a "no messages" before last ends the replay
// only once the stream leader confirms it has no message of filter there
// either: the caller takes the replay for complete through last (a
// take-over's live delivery skips up to it).
func (b *Bus) replayRange(ctx context.Context, spec ConsumerSpec, filter string, next uint64, start time.Time, last, floor uint64, h Handler) (n int, err error) {
	if next > last {
		return 0, nil
	}
	name := proto.StreamName(b.cfg.Prefix, spec.Kind)
	for empty, behind := 0, 0; ; {
		byTime := n == 0 && !start.IsZero()
		batch := []jetstreamext.GetBatchOpt{jetstreamext.GetBatchSubject(filter)}
		if byTime {
			batch = append(batch, jetstreamext.GetBatchStartTime(start))
		} else {
			batch = append(batch, jetstreamext.GetBatchSeq(next))
		}
		got, done, err := b.rebuildBatch(ctx, spec, name, batch, last, floor, &next, h)
		n += got
		if err != nil {
			return n, err
		}
		if next > last {
			return n, nil
		}
		if done {
			// A replica behind the leader says "no messages" where the
			// leader has some: a take-over's top-up then ended early,
			// and its live delivery skipped what it had not read (a
			// forecast the decider never joined, its tick decided on
			// the bucket's before under load). The leader says whether
			// the end is the partition's; a replica behind is asked
			// again, after a pause.
			since := start
			if !byTime {
				since = time.Time{}
			}
			seq, err := b.leaderNext(ctx, name, filter, next, since)
			if err != nil {
				return n, err
			}
			if seq == 0 || seq > last {
				return n, nil
			}
			if behind++; behind >= replicaBehindAttempts {
				return n, fmt.Errorf("direct get of %s from sequence %d: answered %d times by a replica behind the leader, which has sequence %d", filter, next, behind, seq)
			}
			select {
			case <-ctx.Done():
				return n, ctx.Err()
			case <-time.After(time.Duration(behind) * replicaBehindPause):
			}
			continue
		}
		// A batch that ended without its end marker and without a
		// message timed out: the end of the partition is known only from
		// the server's "no messages" answer (or reaching last), never
		// from a silent reply, which once skipped 1,600 messages of a
		// take-over on a loaded machine.
		if got > 0 {
			empty = 0
			continue
		}
		if empty++; empty >= 3 {
			return n, fmt.Errorf("direct get of %s from sequence %d: no reply in %d attempts", filter, next, empty)
		}
	}
}

const (
	// replicaBehindAttempts bounds the direct gets of a replay that end
	// where the stream leader has more: a replica that stays behind fails
	// the take-over (retried) rather than skip messages.
	replicaBehindAttempts = 10
	// replicaBehindPause is the pause after the first such answer; each
	// later one waits one more of it (about 5 s in all).
	replicaBehindPause = 100 * time.Millisecond
)

// leaderNext returns the sequence of filter's first message at or after
// sequence seq (with start set, the first stored at or after start), as
// the stream leader has it, or 0 when it has none. Unlike a direct get,
// which any replica answers, the message get API is answered by the
// stream's leader alone.
func (b *Bus) leaderNext(ctx context.Context, stream, filter string, seq uint64, start time.Time) (uint64, error) {
	req := leaderGetRequest{NextFor: filter}
	if start.IsZero() {
		req.Seq = max(seq, 1)
	} else {
		req.StartTime = &start
	}
	m, err := b.leaderGet(ctx, stream, req)
	if err != nil {
		return 0, fmt.Errorf("leader's next message of %s from sequence %d: %w", filter, seq, err)
	}
	if m == nil {
		return 0, nil
	}
	return m.Seq, nil
}

// leaderGetRequest is a message get API request: the next message of
// NextFor from Seq (or StartTime), or the last of LastFor.
type leaderGetRequest struct {
	Seq       uint64     `json:"seq,omitempty"`
	NextFor   string     `json:"next_by_subj,omitempty"`
	LastFor   string     `json:"last_by_subj,omitempty"`
	StartTime *time.Time `json:"start_time,omitempty"`
}

// leaderMsg is a message as the message get API returns it.
type leaderMsg struct {
	Seq    uint64 `json:"seq"`
	Header []byte `json:"hdrs,omitempty"`
	Data   []byte `json:"data,omitempty"`
}

// apiSubject is the JetStream API subject of request (e.g.
// "STREAM.MSG.GET.<stream>") under the connection's API prefix, for the
// requests the JetStream client has no call for.
func (b *Bus) apiSubject(request string) string {
	prefix := b.js.Options().APIPrefix
	if prefix == "" {
		prefix = jetstream.DefaultAPIPrefix
	}
	if !strings.HasSuffix(prefix, ".") {
		prefix += "."
	}
	return prefix + request
}

// leaderGet asks the stream's leader for one message; nil, nil when it
// has none matching req.
func (b *Bus) leaderGet(ctx context.Context, stream string, req leaderGetRequest) (*leaderMsg, error) {
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	// A get the server refuses (the user's permissions) would only time
	// out: refusable ends it at the refusal, returned (IsRefused), so no
	// caller waits out leaderGetTimeout for it nor asks it again.
	subject := b.apiSubject("STREAM.MSG.GET." + stream)
	var msg *nats.Msg
	err = b.refusable(ctx, publishKey(subject), func(ctx context.Context) error {
		rctx, cancel := context.WithTimeout(ctx, leaderGetTimeout)
		defer cancel()
		var err error
		msg, err = b.nc.RequestWithContext(rctx, subject, data)
		return err
	})
	if err != nil {
		return nil, err
	}
	var resp struct {
		Message *leaderMsg          `json:"message"`
		Error   *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return nil, err
	}
	switch {
	case resp.Error != nil && resp.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound:
		return nil, nil
	case resp.Error != nil:
		return nil, resp.Error
	case resp.Message == nil:
		return nil, errors.New("empty answer")
	}
	return resp.Message, nil
}

// firstSeqSince returns the sequence of filter's first message stored at
// or after t, or math.MaxUint64 when there is none.
func (b *Bus) firstSeqSince(ctx context.Context, stream, filter string, t time.Time) (uint64, error) {
	for range 3 {
		bctx, cancel := context.WithTimeout(ctx, rebuildBatchTimeout)
		msgs, err := getBatch(bctx, b.js, stream, 1, jetstreamext.GetBatchSubject(filter), jetstreamext.GetBatchStartTime(t))
		if err != nil {
			cancel()
			return 0, fmt.Errorf("first message of %s since %s: %w", filter, t, err)
		}
		for rm, err := range msgs {
			cancel()
			if errors.Is(err, jetstreamext.ErrNoMessages) {
				return math.MaxUint64, nil
			}
			if err != nil {
				return 0, fmt.Errorf("first message of %s since %s: %w", filter, t, err)
			}
			return rm.Sequence, nil
		}
		cancel() // a silent reply: ask again
	}
	return 0, fmt.Errorf("first message of %s since %s: no reply", filter, t)
}

// rebuildBatch handles one batch of a rebuild's direct gets, from *next on,
// advancing *next past every message handled. done reports the server's
// answer that no message of the filter is left, or a message beyond last.
func (b *Bus) rebuildBatch(ctx context.Context, spec ConsumerSpec, name string, opts []jetstreamext.GetBatchOpt, last, floor uint64, next *uint64, h Handler) (got int, done bool, err error) {
	// Without a deadline of its own the request falls back to the
	// connection's 2 s timeout and ends silently when it runs out.
	bctx, cancel := context.WithTimeout(ctx, rebuildBatchTimeout)
	defer cancel()
	msgs, err := getBatch(bctx, b.js, name, rebuildBatchSize, opts...)
	if err != nil {
		return 0, false, err
	}
	// The batch is read whole before it is handled, so slow handlers do
	// not eat into the request's deadline.
	var batch []*jetstream.RawStreamMsg
	for rm, err := range msgs {
		if errors.Is(err, jetstreamext.ErrNoMessages) {
			done = true
			break
		}
		if err != nil {
			return 0, false, err
		}
		if rm.Sequence > last {
			done = true
			break
		}
		batch = append(batch, rm)
	}
	for _, rm := range batch {
		*next = rm.Sequence + 1
		subject, part := proto.SplitStored(b.cfg.Prefix, rm.Subject)
		msg := &Msg{Subject: subject, Partition: part, Data: rm.Data, Header: rm.Header, Stream: name,
			Seq: rm.Sequence, Stored: rm.Time, Delivered: 1, filled: spec.gapFill && rm.Sequence > floor, before: rm.Sequence <= floor}
		if rm.Sequence > floor {
			msg.held = spec.held // may never have been handled: its live delivery waits for its work
		}
		if err := b.rebuildOne(ctx, spec, msg, rm.Sequence > floor, h); err != nil {
			return got, false, err
		}
		got++
	}
	return got, done, nil
}

// getBatch is jetstreamext.GetBatch; tests replace it to answer silently.
var getBatch = jetstreamext.GetBatch

const (
	rebuildBatchSize    = 1000
	rebuildBatchTimeout = 30 * time.Second
	// leaderGetTimeout bounds one message get from a stream's leader as
	// every other JetStream API call of the bus is bounded (apiTimeout):
	// the leader answers one message at once, but a loaded machine (2
	// cores under -race) has taken more than nats.go's 5 s to answer API
	// calls, and a get that fails fails a take-over (retried) or a
	// collector source's start (the service stops). Between a leader's
	// death and the next election nobody answers at all, so a get asking
	// then fails after this, rather than wait out a batch's 30 s for an
	// answer that cannot come: EventTimesSince asks such a get again
	// (eventTimesGet) before it fails the take-over.
	leaderGetTimeout = apiTimeout
)

// rebuildOne handles one message of a rebuild; live says it may not have
// been handled before (see rebuild).
func (b *Bus) rebuildOne(ctx context.Context, spec ConsumerSpec, msg *Msg, live bool, h Handler) error {
	if g := spec.merge; g != nil {
		if err := g.wait(ctx, spec.mergeInput, msg.Stored); err != nil {
			return err
		}
		defer g.release()
	}
	for {
		outs, herr := h(ctx, msg)
		if herr == nil && len(outs) > 0 {
			herr = b.PublishAll(ctx, outs)
		}
		switch {
		case herr == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case spec.Gate != nil && IsBackpressure(herr) && spec.inCallback:
			// A gap's top-up, or a take-over's on its first delivery,
			// runs in the delivery callback, the message in hand
			// waiting: the consumer pauses instead (Consume), keeping
			// what it fetched in progress, which waiting here would not
			// (it would go on fetching, and what its client holds would
			// be redelivered each AckWait).
			return herr
		case spec.Gate != nil && IsBackpressure(herr):
			// Refused until the service can take input: handed again
			// once it can, no attempt counted (see Gate).
			if err := spec.Gate.wait(ctx); err != nil {
				return err
			}
			continue
		case !live:
			b.withMsg(b.log.Debug().Err(herr), msg.Subject, msg.Header.Get(jetstream.MsgIDHeader)).Uint64("seq", msg.Seq).Msg("rebuild: handler refused a message handled before")
			return nil
		case IsPermanent(herr) || msg.Delivered >= uint64(spec.MaxDeliver):
			if !IsPermanent(herr) {
				herr = fmt.Errorf("gave up after %d attempts: %w", msg.Delivered, herr)
			}
			return b.rebuildDeadLetter(ctx, spec, msg, herr)
		}
		b.withMsg(b.retryLog.WithLevel(retryLevel(herr)).Err(herr), msg.Subject, msg.Header.Get(jetstream.MsgIDHeader)).Uint64("attempt", msg.Delivered).Msg("rebuild: handler failed, will retry")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(retryDelay(herr, spec.NakDelay*time.Duration(msg.Delivered))):
		}
		msg.Delivered++
	}
}

// rebuildDeadLetter stores the dead letter of msg, which a rebuild's
// handler refused for reason, and tries it again in place, without
// handling msg again, while it cannot be stored (the DLQ refused by the
// server's permissions, or unreachable), the wait doubling from NakDelay
// to RefusedRetryMax with the failures of a kind in a row (UntilAllowed:
// a refusal after another failure starts from NakDelay again, and another
// failure after refusals too), until stored or ctx ends (the
// partition handed over, the service stopping). A failed dead letter
// failed the rebuild instead, and the partition's worker restarted the
// whole take-over (every 10 s at most): its lookback read and handled
// again, and the refused message's handler called again, at each restart
// for as long as the dead letter failed. A take-over's top-up on its
// first delivery (spec.inCallback) still fails at once: it runs in the
// delivery callback, where waiting would not keep what the consumer
// fetched in progress (see rebuildOne), and is tried again at the next
// delivery.
func (b *Bus) rebuildDeadLetter(ctx context.Context, spec ConsumerSpec, msg *Msg, reason error) error {
	msgID := msg.Header.Get(jetstream.MsgIDHeader)
	store := func(context.Context) error {
		return b.storeDeadLetter(spec, msg.Subject, msgID, msg.Stream, msg.Seq, msg.Stored, msg.Data, reason)
	}
	if spec.inCallback {
		return store(ctx)
	}
	u := UntilAllowed{
		Refused: spec.NakDelay,
		Other:   func(n int) time.Duration { return RefusedBackoff(spec.NakDelay, n) },
		Failed: func(attempt, n int, err error, wait time.Duration) {
			// The level of the step of the schedule waited (the
			// failure's place in the run of its kind), as deadLetter's.
			b.withMsg(b.log.WithLevel(deadLetterLevel(spec.NakDelay, n)).Err(err), msg.Subject, msgID).Str("reason", reason.Error()).
				Uint64("seq", msg.Seq).Int("attempt", attempt).Dur("retry_in", wait).Msg("rebuild: dead letter not stored, will retry")
		},
	}
	_, err := u.Do(ctx, store)
	return err
}
