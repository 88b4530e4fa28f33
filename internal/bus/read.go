package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/proto"
)

// This file is the read-only side of the bus for roles that look at the
// streams without consuming them (the gateway, the collector's replay, the
// tail command, tests): direct reads of stored messages, the subjects a
// stream holds, its state and its consumers' state. Nothing here creates,
// changes or acknowledges anything. Subjects go in as published
// (<prefix>.<kind>.<app>.<tier>, wildcards allowed) and come out as
// published: the partition token a partitioned stream stores is added to
// filters and stripped from results here, in one place (see storedFilter and
// proto.SplitStored).

// ErrNotFound is returned (wrapped) when a stream holds no message matching
// a read, or the replica bucket no value under a key.
var ErrNotFound = errors.New("not found")

// PubAckFuture is the stream's acknowledgement of an asynchronous publish
// (PublishAsync): Ok delivers the acknowledgement, Err the failure.
type PubAckFuture = jetstream.PubAckFuture

// PubAck is the stream's acknowledgement of a stored message.
type PubAck = jetstream.PubAck

// Record is a stored message read without a durable consumer: by a direct
// read (StreamReader) or a watch (Watch, Follow).
type Record struct {
	// Subject is the subject the message was published on; a partitioned
	// stream's partition token is stripped into Partition.
	Subject string
	// Partition is the stored subject's partition, -1 when it has none.
	Partition int
	// Stream names the stream and Seq is the message's sequence in it.
	Stream string
	Seq    uint64
	// Stored is when the stream stored the message (not its event time).
	Stored time.Time
	Header map[string][]string
	Data   []byte
	// Pending is, for a watched message, how many messages matching the
	// watch's filters the stream held after it when it was delivered; 0
	// for direct reads.
	Pending uint64
}

// HeaderTime returns the event time (Unix ms) the message's Headroom-Ts
// header carries; false when it has none or an unreadable one.
func (r *Record) HeaderTime() (int64, bool) { return headerTime(r.Header) }

// headerTime reads the event time (Unix ms) of a Headroom-Ts header.
func headerTime(h nats.Header) (int64, bool) {
	if v := h[HeaderEventTime]; len(v) > 0 {
		if ms, err := strconv.ParseInt(v[0], 10, 64); err == nil {
			return ms, true
		}
	}
	return 0, false
}

// EventTime returns the message's event time (Unix ms): its Headroom-Ts
// header, else the time it was stored.
func (r *Record) EventTime() int64 {
	if ms, ok := r.HeaderTime(); ok {
		return ms
	}
	return r.Stored.UnixMilli()
}

// record builds a Record from a stored message.
func (b *Bus) record(stream string, m *jetstream.RawStreamMsg) Record {
	subject, p := proto.SplitStored(b.cfg.Prefix, m.Subject)
	return Record{Subject: subject, Partition: p, Stream: stream, Seq: m.Sequence, Stored: m.Time, Header: m.Header, Data: m.Data}
}

// storedFilter turns a filter on kind k's published subjects into one on
// the subjects its stream stores (proto.StoredForm: a partitioned kind's
// four-token filter gains a "*" for the partition). A filter already in
// stored form, or ending in ">", is kept.
func (b *Bus) storedFilter(k proto.Kind, filter string) string {
	return proto.StoredForm(b.cfg.Prefix, k, filter)
}

// StreamState is what a stream holds now.
type StreamState struct {
	// Name is the stream's name.
	Name string
	// Msgs counts the messages stored; FirstSeq and LastSeq bound their
	// sequences (LastSeq is 0 in a stream never written).
	Msgs              uint64
	FirstSeq, LastSeq uint64
	// Bytes is what the messages take; MaxBytes is the stream's cap
	// (-1 or 0: none), past which it drops its oldest messages.
	Bytes    uint64
	MaxBytes int64
}

// ConsumerState is the state of one of a stream's consumers, as the server
// reports it: enough for the gateway to show a service's lag and whether
// anybody pulls.
type ConsumerState struct {
	// Name is the consumer's name (a durable's, for the services).
	Name string
	// Pending counts the messages matching its filters not yet delivered;
	// AckPending those delivered and not yet acknowledged.
	Pending    uint64
	AckPending int
	// Waiting counts the pull requests waiting at the server: a member
	// pulling from it.
	Waiting int
	// Delivered is the stream sequence of the last message delivered to it
	// (0: none yet).
	Delivered uint64
	// AckFloor is the stream sequence at and below which every message it
	// reads is acknowledged, so the oldest it has yet to acknowledge (or be
	// delivered) is the first on its filters after it; it may be another
	// filter's message, or one the stream no longer holds (0: nothing yet).
	AckFloor uint64
	// Filters are the subjects it reads, as the server stores them (a
	// group member's partition among them); none: the whole stream.
	Filters []string
}

// StreamReader reads one kind's stream directly, without a consumer. It
// holds the stream's handle, so a caller making many reads (the gateway's
// fleet overview) looks the stream up once. It is safe for concurrent use.
type StreamReader struct {
	b    *Bus
	k    proto.Kind
	name string
	s    jetstream.Stream
}

// Reader returns a reader of kind's stream; the stream must exist.
func (b *Bus) Reader(ctx context.Context, k proto.Kind) (*StreamReader, error) {
	name := proto.StreamName(b.cfg.Prefix, k)
	s, err := b.js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", name, err)
	}
	return &StreamReader{b: b, k: k, name: name, s: s}, nil
}

// Name returns the stream's name.
func (r *StreamReader) Name() string { return r.name }

// State reads what the stream holds now.
func (r *StreamReader) State(ctx context.Context) (StreamState, error) {
	info, err := r.s.Info(ctx)
	if err != nil {
		return StreamState{}, fmt.Errorf("stream %s info: %w", r.name, err)
	}
	return StreamState{Name: r.name, Msgs: info.State.Msgs, FirstSeq: info.State.FirstSeq, LastSeq: info.State.LastSeq,
		Bytes: info.State.Bytes, MaxBytes: info.Config.MaxBytes}, nil
}

// Subjects returns how many messages the stream holds on each subject
// matching filter (published form; "" for every subject), keyed by the
// subject they were published on: a subject stored in several partitions
// is counted once, with their sum.
func (r *StreamReader) Subjects(ctx context.Context, filter string) (map[string]uint64, error) {
	if filter == "" {
		filter = proto.Filter(r.b.cfg.Prefix, r.k)
	}
	info, err := r.s.Info(ctx, jetstream.WithSubjectFilter(r.b.storedFilter(r.k, filter)))
	if err != nil {
		return nil, fmt.Errorf("stream %s subjects: %w", r.name, err)
	}
	out := make(map[string]uint64, len(info.State.Subjects))
	for subj, n := range info.State.Subjects {
		pub, _ := proto.SplitStored(r.b.cfg.Prefix, subj)
		out[pub] += n
	}
	return out, nil
}

// Get reads the message with sequence seq; ErrNotFound when the stream
// does not hold it.
func (r *StreamReader) Get(ctx context.Context, seq uint64) (Record, error) {
	m, err := r.s.GetMsg(ctx, seq)
	if err != nil {
		return Record{}, r.readErr(fmt.Sprintf("message %d", seq), err)
	}
	return r.b.record(r.name, m), nil
}

// Next reads the first message at or after sequence seq on a subject
// matching filter (published form); ErrNotFound when there is none.
func (r *StreamReader) Next(ctx context.Context, filter string, seq uint64) (Record, error) {
	m, err := r.s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(r.b.storedFilter(r.k, filter)))
	if err != nil {
		return Record{}, r.readErr(fmt.Sprintf("message at or after %d on %s", seq, filter), err)
	}
	return r.b.record(r.name, m), nil
}

// Last reads the last message stored on a subject matching filter
// (published form: a subject or a filter with wildcards), whichever
// partition holds it; ErrNotFound when there is none.
func (r *StreamReader) Last(ctx context.Context, filter string) (Record, error) {
	m, err := r.last(ctx, filter)
	if err != nil {
		return Record{}, r.readErr("last message on "+filter, err)
	}
	return r.b.record(r.name, m), nil
}

// last is the last stored message on filter: in stored form, or, in a
// stream provisioned before partitions, as given (lastStored's rule).
func (r *StreamReader) last(ctx context.Context, filter string) (*jetstream.RawStreamMsg, error) {
	stored := r.b.storedFilter(r.k, filter)
	if stored == filter && !strings.HasSuffix(filter, ">") {
		// Not a four-token filter of a partitioned kind: the subject may
		// still be stored with a partition (lastStored tries both).
		return lastStored(ctx, r.s, filter)
	}
	m, err := r.s.GetLastMsgForSubject(ctx, stored)
	if errors.Is(err, jetstream.ErrMsgNotFound) && stored != filter {
		m, err = r.s.GetLastMsgForSubject(ctx, filter)
	}
	return m, err
}

// Newest reads the stream's last message whatever its subject;
// ErrNotFound when the stream is empty.
func (r *StreamReader) Newest(ctx context.Context) (Record, error) {
	st, err := r.State(ctx)
	if err != nil {
		return Record{}, err
	}
	if st.Msgs == 0 {
		return Record{}, fmt.Errorf("stream %s newest message: %w", r.name, ErrNotFound)
	}
	return r.Get(ctx, st.LastSeq)
}

// NewestOn reads the newest message stored on any of filters, given as
// the server stores them (ConsumerState.Filters); with none, the stream's
// newest. ErrNotFound when no message matches.
func (r *StreamReader) NewestOn(ctx context.Context, filters []string) (Record, error) {
	if len(filters) == 0 {
		return r.Newest(ctx)
	}
	return r.firstOf(ctx, filters, "newest message", func(f string) (*jetstream.RawStreamMsg, error) {
		return r.s.GetLastMsgForSubject(ctx, f)
	}, func(a, b uint64) bool { return a > b })
}

// FirstOn reads the first message at or after sequence seq stored on any
// of filters (stored form, as NewestOn's; none: any subject); ErrNotFound
// when there is none.
func (r *StreamReader) FirstOn(ctx context.Context, filters []string, seq uint64) (Record, error) {
	if len(filters) == 0 {
		filters = []string{">"}
	}
	return r.firstOf(ctx, filters, fmt.Sprintf("first message at or after %d", seq), func(f string) (*jetstream.RawStreamMsg, error) {
		return r.s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(f))
	}, func(a, b uint64) bool { return a < b })
}

// firstOf reads one message per filter with read and returns the one whose
// sequence comes first by before.
func (r *StreamReader) firstOf(ctx context.Context, filters []string, what string,
	read func(filter string) (*jetstream.RawStreamMsg, error), before func(a, b uint64) bool) (Record, error) {
	var found *jetstream.RawStreamMsg
	for _, f := range filters {
		m, err := read(f)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return Record{}, r.readErr(what+" on "+f, err)
		}
		if found == nil || before(m.Sequence, found.Sequence) {
			found = m
		}
	}
	if found == nil {
		return Record{}, fmt.Errorf("stream %s %s on %s: %w", r.name, what, strings.Join(filters, ", "), ErrNotFound)
	}
	return r.b.record(r.name, found), nil
}

// Outstanding counts the messages c has yet to handle: not delivered, and
// delivered but not acknowledged. None: c is caught up, whatever the
// event times of what it read.
func (c ConsumerState) Outstanding() uint64 { return c.Pending + uint64(c.AckPending) }

// consumerState is the state the server reports in ci.
func consumerState(ci *jetstream.ConsumerInfo) ConsumerState {
	filters := ci.Config.FilterSubjects
	if ci.Config.FilterSubject != "" {
		filters = []string{ci.Config.FilterSubject}
	}
	return ConsumerState{Name: ci.Name, Pending: ci.NumPending, AckPending: ci.NumAckPending, Waiting: ci.NumWaiting,
		Delivered: ci.Delivered.Stream, AckFloor: ci.AckFloor.Stream, Filters: filters}
}

// EventLag is how far, in event time (ms), the oldest message cs has yet
// to acknowledge (the first on its filters after its ack floor) is behind
// newestMS, the event time of the newest message on those filters
// (NewestOn: a caller reading many consumers reads it once per set of
// filters); never below 0. The consumer's lag as the gateway's health
// answer and the bus's event-lag gauge both read it, for a consumer with
// messages pending; one with none is caught up whatever this says.
func (r *StreamReader) EventLag(ctx context.Context, cs ConsumerState, newestMS int64) (int64, error) {
	m, err := r.FirstOn(ctx, cs.Filters, cs.AckFloor+1)
	if err != nil {
		return 0, err
	}
	return max(newestMS-m.EventTime(), 0), nil
}

// Consumers lists the state of the stream's consumers whose name is name
// or starts with name+"-p" (a group's partition durables, see GroupSpec);
// "" lists them all.
func (r *StreamReader) Consumers(ctx context.Context, name string) ([]ConsumerState, error) {
	var out []ConsumerState
	list := r.s.ListConsumers(ctx)
	for ci := range list.Info() {
		if name != "" && ci.Name != name && !strings.HasPrefix(ci.Name, name+"-p") {
			continue
		}
		out = append(out, consumerState(ci))
	}
	if err := list.Err(); err != nil {
		return nil, fmt.Errorf("stream %s consumers: %w", r.name, err)
	}
	return out, nil
}

// readErr wraps a read's error, turning the server's "no message" into
// ErrNotFound.
func (r *StreamReader) readErr(what string, err error) error {
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("stream %s %s: %w", r.name, what, ErrNotFound)
	}
	return fmt.Errorf("stream %s %s: %w", r.name, what, err)
}
