package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

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
// gone (GroupCheck), well within 30 s.
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
	// live delivery then skips what the replay handled. Outputs of the
	// replay are published like any other (their ids make repeats no-ops).
	Rebuild bool
}

const (
	// pinGroup is the priority group every partition consumer pins.
	pinGroup = "members"
	// pinnedTTL is how long a member's pin outlives its last pull request.
	pinnedTTL = 10 * time.Second
	// pullExpiry is how long a pull request waits for messages; a pinned
	// member renews its pull well inside pinnedTTL even when idle.
	pullExpiry = 3 * time.Second
)

// Partitions returns how many partitions kind's stream was provisioned with
// (1 for a stream without a partition transform).
func (b *Bus) Partitions(ctx context.Context, k proto.Kind) (int, error) {
	s, err := b.Stream(ctx, k)
	if err != nil {
		return 0, err
	}
	t := s.CachedInfo().Config.SubjectTransform
	if t == nil {
		return 1, nil
	}
	return proto.PartitionsOf(t.Destination)
}

// consumeGroup runs the partition workers this member owns, starting and
// stopping them as the group's members change, until ctx ends.
func (b *Bus) consumeGroup(ctx context.Context, spec ConsumerSpec, h Handler) error {
	if !proto.Partitioned(spec.Kind) {
		return fmt.Errorf("consumer %s: kind %s is not partitioned, it cannot be shared by a group", spec.Name, spec.Kind)
	}
	n, err := b.Partitions(ctx, spec.Kind)
	if err != nil {
		return err
	}
	m, err := b.join(spec.Service)
	if err != nil {
		return err
	}
	defer b.leave(m)
	log := b.log.With().Str("consumer", spec.Name).Str("group", m.name).Logger()

	// The partitions' workers run side by side, but the stage sees one call
	// at a time, as with a single consumer: its handler and hooks are not
	// required to be safe for concurrent use.
	var mu sync.Mutex
	inner := h
	h = func(ctx context.Context, msg *Msg) ([]Out, error) {
		mu.Lock()
		defer mu.Unlock()
		return inner(ctx, msg)
	}
	g := *spec.Group
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
	spec.Group = &g

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
				for attempt := 1; ; attempt++ {
					err := b.runPartition(wctx, spec, p, h, started, log)
					if wctx.Err() != nil {
						return
					}
					log.Error().Err(err).Int("partition", p).Int("attempt", attempt).Msg("partition worker failed, restarting it")
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
			if spec.Started != nil {
				go func() {
					initial.Wait()
					if ctx.Err() == nil {
						spec.Started()
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

// runPartition handles partition p until ctx ends: acquire, rebuild, then
// live delivery through the partition's pinned durable; on the way out it
// unpins the durable so the next owner takes over at once, then releases.
func (b *Bus) runPartition(ctx context.Context, spec ConsumerSpec, p int, h Handler, started func(), log zerolog.Logger) error {
	g := spec.Group
	log = log.With().Int("partition", p).Logger()
	ps := spec
	ps.Group = nil
	ps.Replay = false
	ps.Started = started
	ps.Name = spec.Name + "-p" + strconv.Itoa(p)
	ps.Filters = []string{proto.PartitionFilter(b.cfg.Prefix, spec.Kind, p)}
	ps.pinned = true
	// Taking the partition over must not race its previous owner: its last
	// outputs must be stored and everything it handled visible to the
	// rebuild. When no client holds the partition's pin (a first start, a
	// restart, an owner that stopped and unpinned), it is taken over at
	// once; otherwise on the first delivery, when the server has made this
	// member the partition's reader. A take-over done early is topped up
	// then with what arrived in between.
	acquired := false
	var through uint64 // rebuilt through this stream sequence
	takeOver := func(ctx context.Context) (uint64, error) {
		if !acquired && g.Acquire != nil {
			if err := g.Acquire(ctx, p); err != nil {
				return 0, fmt.Errorf("acquire partition %d: %w", p, err)
			}
		}
		acquired = true
		if !g.Rebuild {
			return 0, nil
		}
		began := time.Now()
		last, n, err := b.rebuild(ctx, spec, ps.Name, ps.Filters[0], through+1, h)
		if err != nil {
			return 0, fmt.Errorf("rebuild partition %d: %w", p, err)
		}
		log.Info().Int("messages", n).Uint64("from_seq", through+1).Uint64("through_seq", last).Dur("took", time.Since(began)).Msg("partition taken over")
		through = last
		return last, nil
	}
	if b.unpinned(ctx, spec.Kind, ps.Name) {
		if _, err := takeOver(ctx); err != nil {
			return err
		}
	}
	ps.onPinned = takeOver
	defer func() {
		if acquired && g.Release != nil {
			g.Release(p)
		}
	}()
	err := b.Consume(ctx, ps, h)
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if s, serr := b.Stream(uctx, spec.Kind); serr == nil {
		if uerr := s.UnpinConsumer(uctx, ps.Name, pinGroup); uerr != nil && !errors.Is(uerr, jetstream.ErrConsumerNotFound) {
			log.Debug().Err(uerr).Msg("unpin")
		}
	}
	return err
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
func (b *Bus) rebuild(ctx context.Context, spec ConsumerSpec, durable, filter string, from uint64, h Handler) (last uint64, n int, err error) {
	s, err := b.Stream(ctx, spec.Kind)
	if err != nil {
		return 0, 0, err
	}
	// The stream leader's count of the partition's messages, taken with
	// last, checks the read: direct gets may be answered by a replica that
	// is behind (a cluster that just lost a node), and a short read must
	// fail the take-over, never skip messages.
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return 0, 0, fmt.Errorf("stream info: %w", err)
	}
	last = info.State.LastSeq
	var stored uint64
	for _, c := range info.State.Subjects {
		stored += c
	}
	if stored == 0 {
		return last, 0, nil
	}
	var read uint64 // messages of the partition read, from the stream's first
	defer func() {
		if err == nil && from <= 1 && spec.StartTime.IsZero() && read != stored {
			err = fmt.Errorf("read %d of the %d messages the stream holds on %s through sequence %d (a replica behind?)", read, stored, filter, last)
		}
	}()
	var floor uint64
	if c, err := s.Consumer(ctx, durable); err == nil {
		floor = c.CachedInfo().AckFloor.Stream
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, 0, fmt.Errorf("consumer %s: %w", durable, err)
	}
	name := proto.StreamName(b.cfg.Prefix, spec.Kind)
	next := max(info.State.FirstSeq, from)
	if next > last {
		return last, 0, nil
	}
	for {
		batch := []jetstreamext.GetBatchOpt{jetstreamext.GetBatchSubject(filter)}
		if n == 0 && from <= 1 && next == info.State.FirstSeq && !spec.StartTime.IsZero() {
			batch = append(batch, jetstreamext.GetBatchStartTime(spec.StartTime))
		} else {
			batch = append(batch, jetstreamext.GetBatchSeq(next))
		}
		msgs, err := jetstreamext.GetBatch(ctx, b.js, name, 1000, batch...)
		if err != nil {
			return 0, n, err
		}
		got := 0
		for rm, err := range msgs {
			if errors.Is(err, jetstreamext.ErrNoMessages) {
				break
			}
			if err != nil {
				return 0, n, err
			}
			if rm.Sequence > last {
				return last, n, nil
			}
			got++
			read++
			next = rm.Sequence + 1
			subject, part := proto.SplitStored(b.cfg.Prefix, rm.Subject)
			msg := &Msg{Subject: subject, Partition: part, Data: rm.Data, Header: rm.Header, Stream: name,
				Seq: rm.Sequence, Stored: rm.Time, Delivered: 1}
			if err := b.rebuildOne(ctx, spec, msg, rm.Sequence > floor, h); err != nil {
				return 0, n, err
			}
			n++
		}
		if got == 0 || next > last {
			return last, n, nil
		}
	}
}

// rebuildOne handles one message of a rebuild; live says it may not have
// been handled before (see rebuild).
func (b *Bus) rebuildOne(ctx context.Context, spec ConsumerSpec, msg *Msg, live bool, h Handler) error {
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
		case !live:
			b.log.Debug().Err(herr).Str("subject", msg.Subject).Uint64("seq", msg.Seq).Msg("rebuild: handler refused a message handled before")
			return nil
		case IsPermanent(herr) || msg.Delivered >= uint64(spec.MaxDeliver):
			if !IsPermanent(herr) {
				herr = fmt.Errorf("gave up after %d attempts: %w", msg.Delivered, herr)
			}
			return b.storeDeadLetter(spec, msg.Subject, msg.Stream, msg.Seq, msg.Stored, msg.Data, herr)
		}
		b.log.Warn().Err(herr).Str("subject", msg.Subject).Uint64("attempt", msg.Delivered).Msg("rebuild: handler failed, will retry")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(spec.NakDelay * time.Duration(msg.Delivered)):
		}
		msg.Delivered++
	}
}
