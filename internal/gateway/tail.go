package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// TailLine is one line of the tail command: a bus message with its
// payload decoded from MessagePack into JSON.
type TailLine struct {
	Subject string `json:"subject"`
	Stream  string `json:"stream"`
	Seq     uint64 `json:"seq"`
	// Time is the event time (RFC 3339, UTC).
	Time string `json:"time"`
	Msg  any    `json:"msg"`
	// Error says why the payload could not be decoded (Msg is then absent).
	Error string `json:"error,omitempty"`
}

// TailConfig says what the tail command reads.
type TailConfig struct {
	// Filters are subject filters under the prefix (NATS wildcards);
	// dead letters included.
	Filters []string
	// Since starts at messages whose event time is at or after it (zero:
	// only new messages).
	Since time.Time
	// Follow goes on with new messages until ctx ends; without it the tail
	// stops at each stream's last message as of the start.
	Follow bool
	// Skipped, when set, is told of a stream the filters reach only through
	// a wildcard ('apm.>') that the server refused to let this user read
	// (the all-in-one's observer and the DLQ), with the server's refusal;
	// the tail goes on without it. Unset, or for a stream a filter names,
	// the refusal is an error, which names it; so is every stream asked
	// for being refused.
	Skipped func(stream string, err error)
}

// Tail prints the messages matching the filters as JSON lines to w: the
// history since Since (stream by stream), then, with Follow, new messages
// as they arrive. It reads through ordered consumers: nothing durable,
// nothing acknowledged, nothing published.
func Tail(ctx context.Context, b *bus.Bus, c TailConfig, w io.Writer) error {
	prefix := b.Prefix()
	if len(c.Filters) == 0 {
		return errors.New("tail: give a subject filter, e.g. 'apm.decision.>'")
	}
	byKind := map[proto.Kind][]string{}
	named := map[proto.Kind]bool{} // kinds a filter names, not only a wildcard
	pt := strings.Count(prefix, ".") + 1
	for _, raw := range c.Filters {
		tokens := strings.Split(raw, ".")
		if !strings.HasPrefix(raw, prefix+".") || len(tokens) <= pt {
			return fmt.Errorf("tail: filter %q: must start with %q", raw, prefix+".")
		}
		kt := tokens[pt]
		for _, k := range proto.Kinds {
			switch {
			case kt == ">":
				byKind[k] = append(byKind[k], prefix+"."+string(k)+".>")
			case kt == "*" || kt == string(k):
				named[k] = named[k] || kt == string(k)
				t := append([]string(nil), tokens...)
				t[pt] = string(k)
				byKind[k] = append(byKind[k], strings.Join(t, "."))
			}
		}
		if kt != ">" && kt != "*" && !knownKind(proto.Kind(kt)) {
			return fmt.Errorf("tail: filter %q: unknown kind %q", raw, kt)
		}
	}
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	emit := func(l TailLine) error {
		mu.Lock()
		defer mu.Unlock()
		return enc.Encode(l)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(proto.Kinds))
	var streams, refused []string // asked for; of those, refused
	for _, k := range proto.Kinds {
		filters := byKind[k]
		if len(filters) == 0 {
			continue
		}
		if len(filters) > 1 {
			filters = []string{prefix + "." + string(k) + ".>"} // overlapping filters: take the stream, match below
		}
		streams = append(streams, proto.StreamName(prefix, k))
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := tailStream(ctx, b, k, filters, c, emit)
			if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				err = nil // stopped: a stream still opening when ctx ended is no failure
			}
			if err == nil {
				return
			}
			stream := proto.StreamName(prefix, k)
			refusal := b.ConsumerRefusal(stream)
			if refusal == nil && bus.IsRefused(err) {
				refusal = err // the watch's own refusal, as it arrived
			}
			if refusal != nil {
				mu.Lock()
				refused = append(refused, stream)
				mu.Unlock()
				if !named[k] && c.Skipped != nil {
					c.Skipped(stream, refusal)
					return
				}
				// Name the refusal: the request it refused ends only
				// in a timeout, which says nothing of why.
				err = fmt.Errorf("tail %s: this NATS user may not read it: %w", stream, refusal)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if len(refused) == len(streams) {
		// Every stream asked for was left out: nothing could be read.
		return fmt.Errorf("tail: this NATS user may read none of the streams asked for (%s)", strings.Join(refused, ", "))
	}
	return nil
}

func tailStream(ctx context.Context, b *bus.Bus, k proto.Kind, filters []string, c TailConfig, emit func(TailLine) error) error {
	name := proto.StreamName(b.Prefix(), k)
	str, err := b.Reader(ctx, k)
	if err != nil {
		return fmt.Errorf("tail %s: %w", name, err)
	}
	state, err := str.State(ctx)
	if err != nil {
		return fmt.Errorf("tail %s: %w", name, err)
	}
	last := state.LastSeq
	// A tail is one short-lived reader, often the all-in-one's read-only
	// observer, which may not delete consumers: the server removes its
	// consumer once idle.
	spec := bus.WatchSpec{Kind: k, Filters: filters, Start: bus.StartNew(), LeaveConsumer: true}
	if !c.Since.IsZero() {
		// Stored time is never much before event time; an hour of slack
		// covers a clock or a backfill (selection is by event time below).
		spec.Start = bus.StartTime(c.Since.Add(-time.Hour))
	}
	// The watch is opened even when nothing recorded is to be printed, and
	// no following: opening it tells whether the user may read the stream
	// (the all-in-one's observer may see the DLQ's state, not read it), so
	// an empty stream and a refused one are told apart.
	w, err := b.Watch(ctx, spec)
	if err != nil {
		return fmt.Errorf("tail %s: %w", name, err)
	}
	defer w.Stop()
	if !c.Follow && w.Pending() == 0 {
		return nil
	}
	since := proto.Millis(c.Since)
	for {
		m, err := w.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("tail %s: %w", name, err)
		}
		ts := m.EventTime()
		if c.Since.IsZero() || ts >= since {
			l := TailLine{Subject: m.Subject, Stream: name, Seq: m.Seq, Time: proto.Time(ts).UTC().Format(time.RFC3339Nano)}
			var v any
			if err := msgpack.Unmarshal(m.Data, &v); err != nil {
				l.Error = "undecodable payload: " + err.Error()
			} else {
				l.Msg = v
			}
			if err := emit(l); err != nil {
				return err
			}
		}
		if !c.Follow && (m.Seq >= last || m.Pending == 0) {
			return nil
		}
	}
}
