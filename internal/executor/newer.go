package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/proto"
)

// newer returns the last decision of d's tier stored after d (m) with a
// later event time; found false when there is none. Not every message
// stored on a decision subject is one: any NATS client can have the
// server store a JetStream API answer there, or a copy of an older
// decision (a request's reply subject is not subject to publish rules),
// and neither supersedes d. Nor does a decision on replayed input
// (proto.FlagReplayedInput), which no real driver acts on: a replay under
// the live app's name would otherwise have each live change skipped for
// the replay's decision after it, itself refused. Nor does a decision the
// executor dead-letters unread (laterDecision).
//
// The last message stored on the subject is read first: a newer decision
// (the common case of a backlog) answers. Otherwise every message stored
// between d and it is read, however many (a fast replay stores hundreds
// of decisions between two live ticks, and an attacker's requests as many
// as the stream holds: a bound, past which d was refused as "cannot
// tell", let either keep the tier from scaling). What the reading found
// is kept with the tier (afterScan, in held), so each message stored on
// the subject is read once by a member, not once for each decision judged
// before it: the judgement of the decision after d reads only what was
// stored since. Only a read that fails is an error (the caller cannot
// tell, and refuses d); what was read before it is kept.
func (s *Service) newer(ctx context.Context, d *proto.Decision, m *bus.Msg, now time.Time) (afterDecision, bool, error) {
	last, data, err := s.bus.LastMsg(ctx, proto.KindDecision, m.Subject)
	if err != nil || last <= m.Seq {
		return afterDecision{}, false, err
	}
	if x, ok := s.laterDecision(m.Subject, data, d.TS, now); ok {
		return afterDecision{seq: last, ts: x.TS, to: x.To}, true, nil
	}
	k := limits.Key{App: d.App, Tier: d.Tier}
	a, ok := s.held.after(k)
	if !ok || !a.covers(m.Subject, m.Seq, d.TS, last) {
		a = afterScan{subject: m.Subject, from: m.Seq + 1, to: m.Seq, floor: d.TS}
	}
	a = a.past(m.Seq, d.TS)
	if a.to < last {
		r, err := s.bus.Reader(ctx, proto.KindDecision)
		if err != nil {
			return afterDecision{}, false, err
		}
		for seq := a.to + 1; seq <= last; {
			rec, err := r.Next(ctx, m.Subject, seq)
			if errors.Is(err, bus.ErrNotFound) {
				break
			}
			if err != nil {
				s.held.setAfter(k, a)
				return afterDecision{}, false, fmt.Errorf("read the messages stored on %s after seq %d: %w", m.Subject, a.to, err)
			}
			if rec.Seq > last {
				break
			}
			if x, ok := s.laterDecision(m.Subject, rec.Data, a.floor, now); ok {
				a = a.add(afterDecision{seq: rec.Seq, ts: x.TS, to: x.To})
			}
			a.to, seq = rec.Seq, rec.Seq+1
			s.afterReads.Inc()
		}
		a.to = last
	}
	s.held.setAfter(k, a)
	x, ok := a.latest()
	return x, ok, nil
}

// laterDecision decodes data, stored on subject, as a decision later
// than ts (ms) that is not on replayed input and that the executor would
// judge itself (judge): its id its app, tier and time's, its time no
// further past now than the allowed skew. False for anything else: a
// decision the executor dead-letters unread is never acted on, and taken
// for a newer one, a single decision stamped far ahead had every change
// of its tier skipped as superseded until that time. (One beyond the skew
// when read, within it by the time it is judged, is carried out after
// the change it did not supersede: the latest still acts last.)
func (s *Service) laterDecision(subject string, data []byte, ts int64, now time.Time) (*proto.Decision, bool) {
	var x proto.Decision
	if err := s.bus.Decode(&bus.Msg{Subject: subject, Data: data}, proto.KindDecision, &x); err != nil || x.TS <= ts ||
		slices.Contains(x.Flags, proto.FlagReplayedInput) || x.ID != proto.DecisionID(x.App, x.Tier, x.TS) {
		return nil, false
	}
	if skew := s.cfg.MaxFutureSkew; skew > 0 && proto.Time(x.TS).After(now.Add(skew)) {
		return nil, false
	}
	return &x, true
}

// afterDecision is a decision newer found stored: its sequence, event
// time (ms) and the count it decided.
type afterDecision struct {
	seq uint64
	ts  int64
	to  int
}

// afterScan is what a member read of a tier's decision subject after the
// decisions of the tier it judged: every message stored on subject with a
// sequence from from to to was read, and chain holds, of the decisions
// among them later than floor (event time, ms) and not on replayed input,
// each one stored after every decision read with as late a time or
// later: in stream order, their times falling. The last message stored
// after a decision with a later time than it, whatever that decision's
// time above floor, is in chain (nothing stored after it is as late), so
// a judgement of a decision at or past floor, stored at from-1 or after,
// finds what supersedes it there. chain holds at most one decision per
// event time later than floor: a copy of a stored decision (what an
// attacker can store) replaces its original's place, and the decider
// stores one decision per tick; so it is bounded by the tier's backlog of
// decisions after the one judged.
type afterScan struct {
	subject  string
	from, to uint64
	floor    int64
	chain    []afterDecision
}

// covers reports whether a, read of subject, serves the judgement of a
// decision at time ts stored at seq, while the subject's last message is
// at last: a read from at most seq+1 (nothing after seq unread before to),
// for decisions no earlier than ts, of the stream as it is (a stream
// whose last sequence is before to was created again since). A stream
// created again that grew past to meanwhile is not told from it here:
// deleting the stream deleted the executor's durables, and the one
// created again delivers under a new pin, before which the executor
// forgets what it held of the partition's tiers (Repinned), their kept
// reads with them; a partition worker started again forgets them too
// (Acquire).
func (a afterScan) covers(subject string, seq uint64, ts int64, last uint64) bool {
	return a.subject == subject && a.from <= seq+1 && ts >= a.floor && a.to <= last
}

// past returns a for the judgement of a decision at time ts stored at seq
// (a covers it): what is read at or before seq, or no later than ts,
// supersedes neither it nor any judged after it, and is dropped.
func (a afterScan) past(seq uint64, ts int64) afterScan {
	a.floor = max(a.floor, ts)
	a.from, a.to = max(a.from, seq+1), max(a.to, seq)
	c := slices.Clone(a.chain)
	// Times fall along the chain, sequences rise.
	for len(c) > 0 && c[len(c)-1].ts <= a.floor {
		c = c[:len(c)-1]
	}
	i := 0
	for i < len(c) && c[i].seq < a.from {
		i++
	}
	a.chain = c[i:]
	return a
}

// add returns a with x, the decision read at the sequence after a.to,
// later than a.floor: those in chain no later than x are stored before it
// and leave it.
func (a afterScan) add(x afterDecision) afterScan {
	c := a.chain
	for len(c) > 0 && c[len(c)-1].ts <= x.ts {
		c = c[:len(c)-1]
	}
	a.chain = append(c, x)
	return a
}

// latest returns the decision that supersedes the one a was last moved
// past (past): the last stored after it with a later time; false when
// there is none.
func (a afterScan) latest() (afterDecision, bool) {
	if len(a.chain) == 0 {
		return afterDecision{}, false
	}
	return a.chain[len(a.chain)-1], true
}
