package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/proto"
)

// step gathers what handling one decision publishes and records.
type step struct {
	s      *Service
	d      *proto.Decision
	mode   string
	driver string
	st     proto.ReplicaState
	// recorded says the tier has a count on record, at: one the
	// executor had a driver carry out (st.Desired), or the cluster's
	// where the driver reads it (in every mode, so dry-run judges as live
	// would); not one only decisions claimed (a tier's first, holds, a
	// change only acknowledged: st.Claimed).
	recorded bool
	at       int
	outs     []bus.Out
	// whys holds, for each of outs, the why of
	// headroom_executor_refused_total its refusal counts under ("": none).
	whys []string
	// syncs holds, for each of outs, the result of a sync it stands for
	// in headroom_executor_syncs_total ("": none; see markSync).
	syncs []string
	// stored holds the ids of the scaling events stored while handling
	// this delivery, by every judgement of it (see handle): an event made
	// again, with the same id, is kept once by the stream and counted once.
	stored map[string]bool
	// moved is the driver's refusal of a change (ErrMovedSinceJudged):
	// the tier's count moved since this judgement read it, and the
	// decision is judged again.
	moved error
	// movedBefore says a driver refused an earlier judgement of this
	// delivery's change because the tier's count had moved (see moved).
	movedBefore bool
	// deadline, when set, ends the driver call: the call is made under
	// the tier's lease, and must end leaseMargin before it lapses,
	// counted from before the lease was taken (takeLease).
	deadline time.Time
	// lease is the tier's lease this judgement took before calling the
	// driver (nil: none taken), released once the state is stored.
	lease *tierLease
	// carried says the driver carried the change out (its call
	// succeeded).
	carried bool
	// braked says the tier is one a real driver may act on, held by
	// -executor.modes (see Service.braked): its changes are refused
	// leaving its state as it is.
	braked bool
	// sync, when set, says the judgement is a sync (see Service.syncDue):
	// the tier's record holds a count never asked of its workload, and
	// the driver is asked for the decided count even on a hold. It is the
	// reason the requested event carries.
	sync string
	// replayRan says the counts p's tier has on record as running are a
	// replay's (proto.ClaimedReplayed, for a real driver that does not
	// read them back): decided on replayed input before the file named
	// the tier, they say nothing of what the workload runs.
	replayRan bool
	// syncTo is the count a sync has the driver set: the decided count,
	// clamped into the tier's bounds (see Service.syncCount).
	syncTo int
	// keepTime says the judgement leaves the time of the tier's state as
	// it was (refuseKeeping): a decision on replayed input is none of a
	// live tier's, and a live decision before it, judged after it (a
	// retried delivery), is not "already applied".
	keepTime bool
}

// emit adds a scaling event with the tier's counts as they stand in st;
// it is counted once stored (storeEvents).
func (p *step) emit(status, decisionID, errText string) {
	p.emitReason(status, decisionID, errText, "")
}

// emitReason is emit with the reason of a skipped decision.
func (p *step) emitReason(status, decisionID, errText, reason string) {
	d := p.d
	ev := &proto.Scaling{V: proto.SchemaVersion, ID: proto.ScalingID(d.App, d.Tier, decisionID, status, d.TS), App: d.App, Tier: d.Tier, TS: d.TS,
		DecisionID: decisionID, Status: status, Desired: p.st.Desired, Ready: p.st.Ready, Booting: p.st.Booting,
		Driver: p.driver, Mode: p.mode, Error: errText, Reason: reason}
	p.outs = append(p.outs, bus.Out{Subject: proto.ScalingSubject(p.s.bus.Prefix(), d.App, d.Tier), Msg: ev})
	p.whys = append(p.whys, "")
	p.syncs = append(p.syncs, "")
}

// markSync makes the event added last count, once stored, as a sync's
// result (syncResults) when the judgement is a sync.
func (p *step) markSync(result string) {
	if p.sync != "" && len(p.syncs) > 0 {
		p.syncs[len(p.syncs)-1] = result
	}
}

// refuse adds the skipped event of a change not made for reason, counted
// under why in headroom_executor_refused_total once stored.
func (p *step) refuse(reason, why string) {
	p.emitReason(proto.StatusSkipped, p.d.ID, "", reason)
	p.whys[len(p.whys)-1] = why
}

// handle applies one decision. A decision at or before the event time of the
// last one applied to its tier (kept in the bucket, so across restarts) is a
// redelivery or a replay and is acknowledged without acting; if that last
// one lies ahead of the clock, the skip is recorded (behindFuture). One whose
// subject disagrees with its payload, whose id is not its app, tier and
// time's, or whose event time lies beyond now plus the allowed skew, is
// dead-lettered unread. A real driver acts only on
// tiers the configuration names live, and never on a stale or superseded
// decision: those are recorded as skipped with the reason. No driver acts
// on a decision whose counts contradict its action or leave the tier's
// bounds (invalid). A hold acts only as a sync: the first live judgement
// of a tier whose record holds a count only acknowledged, with a driver
// that cannot read the count back, has the driver set it (syncDue).
//
// The scaling events are stored before the replica state moves, so the state
// never claims what the stream does not record.
//
// The state is recorded only over the bucket revision it was judged from
// (put): when another member stored one meanwhile (it handled the tier
// while this one still handled what it received under a pin it had lost,
// or the two acted at once), the decision is judged again from the
// bucket's, up to judgeAttempts times, then left to its redelivery. A
// hold then records the other member's counts, not this one's view of
// before; a decision the other has moved past is already applied.
//
// Two members acting on a tier at once: one judging an older decision
// finds the newer one stored (refusal: superseded, where a real driver
// acts) if it was stored before that check, and does not call its
// driver. What no check before the call closes is a call already in
// flight (a slow API, or a member paused between that check and its
// call) while the other member carries out the newer decision. The
// workload itself closes it where the driver reads it back (the
// kubernetes driver): the request names the count the decision was
// judged from (Request.JudgedFrom), and the driver changes the workload
// only while it is still at that count, atomically (a patch conditional
// on the resourceVersion read, whose conflict's fresh read finds the
// other's change). Found moved (the other member's change, or kubectl
// scale), it changes nothing (ErrMovedSinceJudged): nothing of the
// attempt is recorded, and the decision is judged again from the count
// now set, like a state conflict (then superseded, already applied,
// outdated, or carried out from that count), up to judgeAttempts times,
// then left to its redelivery. The command and webhook drivers cannot
// read the count back: there the member takes the tier's lease before it
// calls its driver (takeLease: a key per tier in the lease bucket,
// proto.LeaseBucket, created atomically, naming the member, the decision
// and its expiry, and removed by the bucket itself after -executor.lease
// if the member dies), and releases it once the tier's state is stored
// (or nothing will be: a driver error, a refusal to record). A member
// finding another's live lease does not call its driver: the decision is
// retried later (bus.RetryAfter; headroom_executor_lease_waits_total) and
// judged again then, from the state the holder stored; aged past the
// tier's limit meanwhile, it is refused as stale, and the reason says it
// waited. Taken, the lease is checked against the state judged from: a
// member that carried a change out and released the lease in between
// moved it, and the decision is judged again from it. Every leased call
// ends leaseMargin before its lease lapses, counted from before the take
// (a call whose member stalled past that is not started), and the
// driver's own timeout must end it sooner (validateLease), so no call
// lands after its lease lapsed (while its member runs: a process paused
// inside the call cannot be fenced by the lease, and may deliver an older
// count after a newer one; the program or receiver fences it by the
// decision's time, HEADROOM_DECISION_TIME or WebhookPayload.Time, refusing
// one older than the last it applied to the tier). Without the lease
// bucket no change is made (deny by default: retried,
// headroom_executor_lease_errors_total). Holds, refusals and
// changes already in place take no lease, and so cost nothing; a change
// costs a create and a removal of the tier's key, and a read of its state.
// A hold another member stores while a change is in flight (a hand-over:
// both members consume the tier for a moment) still moves the state's
// revision under it (see put), and is judged from the count before the
// change. Judged again, the change would be found already applied (the
// hold is later), and the state would record the hold's old count while
// the workload runs the change's, for as long as the decider holds: the
// record is these drivers' only truth. So a change carried out under the
// lease is recorded over such a state instead (rebase), while the member
// still holds the lease: no other change can have been made on the tier
// meanwhile, and the state checked still names the decision and count
// the change was judged from; its events are not made again. Anything
// else stored meanwhile has the decision judged again as above. Rebasing
// was chosen over taking the lease for holds too (every state write of a
// leased tier under it): that would cost every hold of such a tier, the
// executor's most common message, a create and a removal of the key and
// make holds wait on changes, to close a window only a change in flight
// opens; rebasing costs nothing until a put conflicts after a leased
// change, then a read of the lease and of the state.
func (s *Service) handle(ctx context.Context, m *bus.Msg) ([]bus.Out, error) {
	// A judgement made again makes its scaling events again, with the
	// same ids: the stream keeps each once, and so do the counters.
	stored := map[string]bool{}
	// A delivery refused as moved counts once, however many judgements of
	// it the driver refused, as its events do.
	movedSeen := false
	for attempt := 1; ; attempt++ {
		outs, err := s.judge(ctx, m, stored, movedSeen)
		moved := errors.Is(err, ErrMovedSinceJudged)
		if moved {
			ev := s.log.Debug()
			if !movedSeen {
				movedSeen = true
				s.refused.WithLabelValues("moved").Inc()
				ev = s.log.Warn()
			}
			ev.Err(err).Str("subject", m.Subject).Int("attempt", attempt).
				Msg("the driver changed nothing: the tier's desired replicas moved since the decision was judged; judging it again from the count now set")
		}
		if !errors.Is(err, bus.ErrChanged) && !moved || attempt == judgeAttempts {
			return outs, err
		}
		// What was begun is finished, even if shutdown began meanwhile.
		ctx = context.WithoutCancel(ctx)
	}
}

// judgeAttempts bounds how many times handle judges one delivery of a
// decision whose tier's state another member keeps moving.
const judgeAttempts = 3

// judge handles a decision once, from the tier's state as held or read
// (see handle); stored holds the ids of the scaling events stored by the
// judgements of it before, and moved says a driver refused one of them
// because the tier's count moved since it was judged.
func (s *Service) judge(ctx context.Context, m *bus.Msg, stored map[string]bool, moved bool) ([]bus.Out, error) {
	var d proto.Decision
	if err := s.bus.Decode(m, proto.KindDecision, &d); err != nil {
		return nil, err
	}
	if want := proto.DecisionID(d.App, d.Tier, d.TS); d.ID != want {
		// The id is the stream's deduplication key: one naming another
		// tick would make the stream drop that tick's genuine decision as
		// its duplicate.
		return nil, bus.Permanent(fmt.Errorf("decision id %q is not its app, tier and time's (%q): refusing a forged decision", d.ID, want))
	}
	now := s.now()
	if skew := s.cfg.MaxFutureSkew; skew > 0 && proto.Time(d.TS).After(now.Add(skew)) {
		return nil, bus.Permanent(fmt.Errorf("decision %s has event time %s, beyond now + %s: refusing a decision from the future",
			d.ID, proto.Time(d.TS).Format(time.RFC3339), skew))
	}
	if err := ctx.Err(); err != nil {
		// Stopping: leave the decision to be redelivered after the restart.
		return nil, fmt.Errorf("executor stopping: %w", err)
	}
	// An action once started finishes (bounded by the driver's timeouts) even
	// if shutdown begins meanwhile, so the state recorded is what was done.
	ctx = context.WithoutCancel(ctx)
	log := s.log.With().Str("app", d.App).Str("tier", d.Tier).Str("msg_id", d.ID).Logger()
	k := limits.Key{App: d.App, Tier: d.Tier}
	dropped, err := s.held.see(k, m.Partition, m.Stored, d.TS)
	for _, o := range dropped {
		s.shadow.Forget(o.App, o.Tier)
	}
	if len(dropped) > 0 {
		s.log.Info().Int("tiers", len(dropped)).Int("held", s.held.len()).Msg("dropped the state of idle tiers (kept in the bucket)")
	}
	if err != nil {
		s.refused.WithLabelValues("series limit").Inc()
		return nil, bus.Permanent(fmt.Errorf("decision %s: %w", d.ID, err))
	}
	_, cached := s.held.get(k)
	prev, err := s.state(ctx, k)
	if err != nil {
		return nil, err // transient: retried
	}
	if cached && d.Action != proto.ActionHold {
		// A change is decided from the bucket's state, not a held one
		// another member has since moved on.
		if prev, err = s.current(ctx, k, prev, log); err != nil {
			return nil, err // transient: retried
		}
	}
	if prev == nil {
		if err := s.room(ctx, k, &d); err != nil {
			return nil, err
		}
	}
	if prev != nil && d.TS <= prev.TS {
		if skew := s.cfg.MaxFutureSkew; skew > 0 && d.TS < prev.TS && proto.Time(prev.TS).After(now) {
			return s.behindFuture(ctx, &d, prev, stored, log)
		}
		log.Debug().Int64("last_ts", prev.TS).Msg("decision already applied")
		return nil, nil
	}
	t := proto.Time(d.TS)
	if prev == nil {
		// A tier seen for the first time runs what the decider saw running.
		s.shadow.Restore(d.App, d.Tier, t, d.From, 0, t)
	}
	p, drv := s.stepFor(&d, proto.ReplicaState{V: proto.SchemaVersion, App: d.App, Tier: d.Tier, TS: d.TS, Desired: d.From})
	p.stored, p.movedBefore = stored, moved

	// Where the tier stands now, in event time.
	cur := Result{Ready: d.From}
	if prev != nil {
		cur = Result{Ready: prev.Ready, Booting: prev.Booting}
		p.st.Desired, p.st.DecisionID, p.st.Claimed, p.st.ClaimedBy = prev.Desired, prev.DecisionID, prev.Claimed, prev.ClaimedBy
	}
	if obs, ok := drv.(Observer); ok {
		if r, ok := obs.Observe(d.App, d.Tier, t); ok {
			cur = r
		}
	}
	p.st.Ready, p.st.Booting = cur.Ready, cur.Booting
	// Where the driver reads the tier from the cluster and may act on it,
	// the cluster's desired count (spec.replicas) is the tier's: a scale
	// made by someone else shows in this state, and the decider starts
	// from it. A dry-run or unauthorised tier keeps the count it
	// acknowledged (see below).
	fromCluster := cur.Cluster && p.mode == ModeLive && s.cfg.authorised(d.App, d.Tier) == ""
	p.recorded = cur.Cluster || prev != nil && prev.DecisionID != "" && (!prev.Claimed || s.simulatedRecord(prev))
	p.replayRan = !cur.Cluster && prev != nil && prev.Claimed && prev.ClaimedBy == proto.ClaimedReplayed && !s.simulatedRecord(prev)
	if fromCluster {
		p.st.Claimed, p.st.ClaimedBy = false, ""
		if p.st.Desired != cur.Ready+cur.Booting && prev != nil {
			log.Info().Int("recorded", p.st.Desired).Int("cluster", cur.Ready+cur.Booting).Msg("desired replicas changed in the cluster")
		}
		p.st.Desired = cur.Ready + cur.Booting
	}
	if p.braked && prev != nil && prev.Claimed && prev.ClaimedBy == "" && prev.Desired != prev.Ready+prev.Booting {
		// A count acknowledged by an executor before the claim's cause
		// was recorded (proto.ReplicaState.ClaimedBy), above or below
		// the one the driver was last seen to run: that executor
		// recorded a braked change so (see Service.braked), or the tier
		// was not live then. Kept, the decider would hold at it, the
		// brake released or not, while the driver ran the other; the
		// running count is what this judgement and the decider start
		// from. It stays claimed (braked): the driver set it, but
		// nothing read it back. A count whose cause is recorded is not
		// mended here: one only acknowledged (dry-run, not authorised,
		// shadow) is kept, and the first live judgement after the
		// brake's release has the driver set it (syncDue); the others
		// already record what the driver was last asked to run.
		log.Warn().Int("recorded", prev.Desired).Int("running", prev.Ready+prev.Booting).
			Msg("braked: the tier's state recorded a count only acknowledged; it records the count its driver runs again")
		p.st.Desired, p.st.ClaimedBy = prev.Ready+prev.Booting, proto.ClaimedBraked
	}
	p.sync = s.syncDue(p, prev)
	p.at = p.st.Desired
	if cur.Cluster {
		p.at = cur.Ready + cur.Booting
	}
	if cur.Failed > 0 && prev != nil {
		log.Warn().Int("failed", cur.Failed).Str("decision_id", prev.DecisionID).Msg("replicas failed to boot")
		p.emit(proto.StatusFailed, prev.DecisionID, fmt.Sprintf("%d booting replica(s) failed", cur.Failed))
	}
	if prev != nil && prev.Booting > 0 && cur.Booting == 0 && cur.Ready == prev.Desired {
		p.emit(proto.StatusReady, prev.DecisionID, "")
	}
	// The state a change was judged from, as it was stored (see rebase).
	var judged proto.ReplicaState
	if why := s.invalid(p); why != "" {
		s.skip(p, why, log)
	} else if d.Action == proto.ActionHold && s.replayKept(d.App, d.Tier) && slices.Contains(d.Flags, proto.FlagReplayedInput) {
		// A replay under the name of an app the file names live holds
		// as often as it changes: its holds are refused like its changes
		// (below), so a replay of a steady period is counted under
		// why="replayed" and alerts too. Nothing is done either way.
		s.refuseKeeping(p, replayedInput, "replayed", log)
	} else if d.Action != proto.ActionHold || p.sync != "" {
		reason := s.refusal(ctx, p, m, now)
		if reason != "" && p.sync != "" && !strings.HasPrefix(reason, notAuthorised) {
			// Refused as any change is (stale, superseded, out of
			// bounds): the claim stays for the next judgement. A
			// refusal for authority keeps its reason as it is: the
			// switch below tells a replay's and an unauthorised one's
			// by it.
			reason = fmt.Sprintf("%s (a sync: the record holds %d desired, %s)", reason, p.st.Desired, claimCause(p.st.ClaimedBy))
		}
		if p.mode == ModeDryRun {
			reason = "dry-run"
		}
		if p.braked {
			reason = fmt.Sprintf("%s: braked by -executor.modes, the configuration file naming the tier live: would set %d replicas; the tier's state keeps %d desired, what its driver runs",
				p.mode, d.To, p.st.Desired)
			if p.st.ClaimOnlyAcknowledged() {
				reason = fmt.Sprintf("%s: braked by -executor.modes, the configuration file naming the tier live: would set %d replicas; the tier's state keeps %d desired, %s: the first live judgement after the brake's release has the driver set it",
					p.mode, d.To, p.st.Desired, claimCause(p.st.ClaimedBy))
			}
		}
		if s.replayKept(d.App, d.Tier) && slices.Contains(d.Flags, proto.FlagReplayedInput) {
			// A replay under the name of an app the file names is
			// refused as in live mode, whatever brakes the tier or the
			// file's mode: counted under why="replayed" (the brake is
			// how deploy/kubernetes starts) and leaving the tier's state
			// as it was (see replayKept).
			reason = replayedInput
		}
		// A dry-run or unauthorised tier only acknowledges changes: its
		// state records the decided count as desired, so the decider does
		// not repeat it, while the running count stays as it is. A braked
		// tier's changes are not made either, but only skipped (below).
		acknowledgeOnly := p.mode == ModeDryRun || p.braked || strings.HasPrefix(reason, notAuthorised)
		switch {
		case acknowledgeOnly && d.To == p.st.Desired:
			// Acknowledged already: nothing new to record.
		case reason == replayedInput:
			// A live tier, the driver's: its state is the record of
			// what runs, which the collector stamps on its ticks as
			// committed and the next changes are judged from. A
			// replay under the live app's name does not move it.
			s.refuseKeeping(p, reason, "replayed", log)
		case p.braked:
			// A live tier held by the brake: its state is the record of
			// what its driver runs, which nothing reads back (see
			// Service.braked). Acknowledged, the change would stand on
			// record as done once the brake is released, and the decider
			// would hold there while the tier ran less. Kept, the
			// decider decides from what runs, and decides the change
			// again at its next tick: one skipped event each, and the
			// first after the release is carried out.
			log.Info().Int("from", d.From).Int("to", d.To).Str("mode", p.mode).Str("reason", d.Reason).Msg("braked: not acting")
			p.refuse(reason, "")
		case acknowledgeOnly:
			s.acknowledge(p, reason, log)
		case d.To == cur.Ready+cur.Booting && p.sync == "" && !p.replayRan:
			// Already running that count (a sync trusts no count
			// claimed: it sets it; nor is a replay's count one the
			// workload runs: replayRan).
		case reason == "" && fromCluster && against(&d, cur.Ready+cur.Booting):
			s.skip(p, fmt.Sprintf("outdated: decided %s %d→%d, but the workload is at %d replicas already (changed in the cluster); the next decision starts from %d",
				d.Action, d.From, d.To, cur.Ready+cur.Booting, cur.Ready+cur.Booting), log)
		case reason != "":
			s.skip(p, reason, log)
		default:
			if s.leased(p, drv) {
				lease, deadline, err := s.takeLease(ctx, k, p, m.Delivered, log)
				if err != nil {
					return nil, err // retried, or judged again
				}
				// Released once the state is stored, or nothing will be.
				defer lease.release()
				p.lease, p.deadline = lease, deadline
			}
			judged = p.st
			s.change(ctx, p, drv, cur, log)
			if p.lease != nil {
				// Held until the change is recorded, however long its
				// events or state wait in place for the server's
				// permissions (storeRefused): lapsed meanwhile, another
				// member would change the tier judged from a state
				// without this change. Stopped before the release.
				defer p.lease.keep()()
			}
		}
	}
	if err := s.storeEvents(ctx, p); err != nil {
		return nil, err
	}
	if p.moved != nil {
		// Nothing changed and nothing is recorded of the attempt: the
		// state stays as it was stored, and the decision is judged again
		// (handle) from the count now set.
		return nil, p.moved
	}
	if p.keepTime {
		if prev == nil {
			// A live tier with no state yet: the decision on replayed
			// input refused is none of its, and stores none. Stored, its
			// From stood as the tier's running count (the collector
			// stamped it on the live app's ticks, a live change to it
			// was "already running") and its time as the tier's (a live
			// decision stamped before it was "already applied"); the
			// tier's first live decision seeds what runs, the simulated
			// cluster of shadow mode's included.
			s.shadow.Forget(d.App, d.Tier)
			return nil, nil
		}
		p.st.TS = prev.TS
	}
	if err := s.putRefused(ctx, k, &p.st); err != nil {
		if errors.Is(err, bus.ErrChanged) {
			s.conflicts.Inc()
			if p.lease != nil && p.carried {
				// Carried out under the lease: recorded over what
				// another member stored meanwhile, if that moved
				// nothing the change was judged from.
				rerr := s.rebase(ctx, k, p, judged, log)
				if rerr == nil {
					return nil, nil
				}
				log.Warn().Err(rerr).Msg("cannot record the change carried out over the state another member stored meanwhile")
			}
			// The driver may have acted already: judged again from the
			// newer state, the decision is carried out again (a count,
			// not a step) or found already applied, and then the tier
			// may run this decision's count until its next change
			// (where the driver reads the count back, the next
			// judgement reads it; a leased change is rebased above).
			log.Warn().Err(err).Bool("driver_called", p.requested()).
				Msg("another member stored the tier's state while this decision was handled: judging it again from the bucket's")
		}
		return nil, err // transient: judged again, or retried
	}
	return nil, nil
}

// rebase records p's change, carried out by the driver under the tier's
// lease (p.lease, still held), when its state could not be stored
// because another member stored one meanwhile over the revision judged
// from: a hold (or several), handled from the state as it stood before
// the change landed. No other change can have been made on the tier
// while this member holds its lease, and a hold, refusal or failed
// change leaves the state's decision, desired count and claim as they
// were; so when the state now stored still names the decision, count
// and claim the change was judged from (judged), it differs only in
// time and in what was seen running, and the change is recorded over
// it: p's decision, count, claim and the counts its driver reported, at
// the later of the two times (so a decision at or before the stored one
// stays already applied, and the state's time never goes back), by the
// same conditional put, over the revision just read. Its scaling events
// are stored already, once: none is made again. Anything else (another
// change recorded, the lease lost or lapsed, the state unreadable, gone,
// or moved again judgeAttempts times) returns an error, and the decision
// is judged again as before (see handle).
func (s *Service) rebase(ctx context.Context, k limits.Key, p *step, judged proto.ReplicaState, log zerolog.Logger) error {
	for attempt := 1; attempt <= judgeAttempts; attempt++ {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		st, rev, err := readState(rctx, s.kv, k.App, k.Tier)
		if err == nil {
			err = p.lease.holds(rctx)
		}
		cancel()
		switch {
		case err != nil:
			return err
		case st == nil:
			return errors.New("the tier's state was removed meanwhile")
		case st.DecisionID != judged.DecisionID || st.Desired != judged.Desired || st.Claimed != judged.Claimed || st.ClaimedBy != judged.ClaimedBy:
			return fmt.Errorf("the state stored meanwhile records %d desired (decision %q, claimed %v %q), not the %d (%q, claimed %v %q) the change was judged from",
				st.Desired, st.DecisionID, st.Claimed, st.ClaimedBy, judged.Desired, judged.DecisionID, judged.Claimed, judged.ClaimedBy)
		}
		next := p.st
		next.TS = max(st.TS, p.st.TS)
		if s.beforeRebasePut != nil {
			s.beforeRebasePut()
		}
		// A full bucket is not counted as a refusal here: the decision
		// is judged again (handle), and that judgement's own put counts
		// one if the bucket is still full.
		err = s.waitRefused(ctx, refusedWrite{what: "replica state", noun: "state", again: "written", subject: proto.ReplicaKey(k.App, k.Tier), id: next.DecisionID},
			func(ctx context.Context) error { return s.storeOver(ctx, k, &next, rev) })
		if err == nil {
			log.Info().Int64("stored_ts", st.TS).Int("stored_desired", st.Desired).Int("desired", next.Desired).
				Msg("recorded the change carried out over the state another member stored meanwhile (a hold)")
			return nil
		}
		if !errors.Is(err, bus.ErrChanged) {
			return err
		}
		s.conflicts.Inc() // yet another state stored meanwhile
	}
	return fmt.Errorf("the tier's state moved %d times while the change was recorded: %w", judgeAttempts, bus.ErrChanged)
}

// requested reports whether p asked the driver to carry its decision out.
func (p *step) requested() bool {
	for _, o := range p.outs {
		if sc, ok := o.Msg.(*proto.Scaling); ok && sc.Status == proto.StatusRequested && sc.DecisionID == p.d.ID {
			return true
		}
	}
	return false
}

// behindFuture records d, skipped because a decision stamped after it
// and ahead of the wall clock (within the allowed future skew) was handled
// first: d may be the tier's genuine latest decision, which the executor
// will not act on until the clock passes the other's time. A counter
// (superseded), a warning with both times and a skipped scaling event say
// so; the tier's state is left as it is, so its time never goes back. A
// redelivery or a replay of a decision older than one stamped in the past
// is still acknowledged quietly.
func (s *Service) behindFuture(ctx context.Context, d *proto.Decision, prev *proto.ReplicaState, stored map[string]bool, log zerolog.Logger) ([]bus.Out, error) {
	p, _ := s.stepFor(d, *prev)
	p.stored = stored
	s.skip(p, fmt.Sprintf("superseded: decided at %s, before a decision stamped %s, ahead of the clock, was handled",
		proto.Time(d.TS).Format(time.RFC3339), proto.Time(prev.TS).Format(time.RFC3339)), log)
	return nil, s.storeEvents(ctx, p)
}

// stepFor starts handling d from state st, in d's app's mode, and returns
// the driver that acts for it: the simulated cluster in shadow mode,
// except for a braked tier (see braked), whose driver is not called.
func (s *Service) stepFor(d *proto.Decision, st proto.ReplicaState) (*step, Driver) {
	p := &step{s: s, d: d, mode: s.cfg.mode(d.App), driver: s.driverName, st: st}
	p.braked = s.braked(d.App, d.Tier, p.mode)
	if p.mode == ModeShadow && !p.braked {
		p.driver = DriverSim
		return p, s.shadow
	}
	return p, s.driver
}

// braked reports whether app's tier, in mode, is held by the brake of
// -executor.modes (*=dry-run, app=dry-run, shadow) although the
// configuration file names it live (Config.Authority), while the driver
// is a real one that does not read the tier's count back (not readsBack:
// the command and webhook drivers). Such a tier's state is the only
// record of the count its driver was last asked for: the collector stamps
// it on the tier's ticks as committed, the decider decides from it, and
// the next live changes are judged from it. So its changes are refused
// leaving the state as it is (handled by the real driver, which is not
// called, not by the simulated cluster of shadow mode, whose counts would
// be taken for the driver's), and the brake's release finds the record
// true. Where the driver reads the count back (the kubernetes driver), a
// release reads the workload's count again at its first live judgement
// (see judge), and a braked tier acknowledges its changes as a tier
// dry-run by the file does; so does every tier with the simulated
// cluster as the driver, which acts on all of them and changes nothing
// real. A tier dry-run or shadow by the file keeps acknowledging its
// changes (its record follows what it would do, so its decisions stay
// a coherent stream).
func (s *Service) braked(app, tier, mode string) bool {
	if mode == ModeLive || !s.realDriverFor(app, tier) {
		return false
	}
	_, ok := s.driver.(readsBack)
	return !ok
}

// replayKept reports whether a decision on replayed input for app's tier
// is refused leaving the tier's state as it was (replayedInput,
// refuseKeeping), not acknowledged: the executor's driver is a real one
// and the configuration file names the tier, live (realDriverFor) or in
// dry-run or shadow. Such a tier goes live by a switch of the file, and
// its first live judgement has the driver set the count on record
// (syncDue): acknowledged there, a replay's count under the app's name
// (claimed dry-run or shadow) was set on the workload at the switch.
// A tier the file does not name keeps the replay's counts, shown.
func (s *Service) replayKept(app, tier string) bool {
	if s.realDriverFor(app, tier) {
		return true
	}
	_, named := s.cfg.Bounds[app][tier]
	return named && s.driverName != DriverSim && s.driver != Driver(s.shadow)
}

// realDriverFor reports whether the executor's driver is a real one (not
// the simulated cluster) and the configuration file names app's tier live
// (Config.Authority): a tier that driver acts on once its mode is live.
func (s *Service) realDriverFor(app, tier string) bool {
	return s.driverName != DriverSim && s.driver != Driver(s.shadow) && s.cfg.authorised(app, tier) == ""
}

// storeEvents stores the scaling events p made, in order, and counts
// each (headroom_executor_actions_total, its refusal's why, and the result
// of the sync it stands for) the first
// time this handling stores it; an error is transient (the decision is
// retried, the events' ids make repeats no-ops). An event the server
// refuses for the executor's permissions is published again in place
// (storeRefused) until stored or ctx ends.
func (s *Service) storeEvents(ctx context.Context, p *step) error {
	for i, o := range p.outs {
		if err := s.storeRefused(ctx, o); err != nil {
			return fmt.Errorf("store scaling event: %w", err)
		}
		id := o.Msg.MsgID()
		if p.stored[id] {
			continue
		}
		if p.stored != nil {
			p.stored[id] = true
		}
		if sc, ok := o.Msg.(*proto.Scaling); ok {
			s.actions.WithLabelValues(p.mode, sc.Status).Inc()
		}
		if why := p.whys[i]; why != "" {
			s.refused.WithLabelValues(why).Inc()
		}
		if result := p.syncs[i]; result != "" {
			s.syncs.WithLabelValues(result).Inc()
		}
	}
	return nil
}

// against reports whether carrying d out would move a tier now at n
// replicas the other way from d's action: a scale-up to fewer replicas
// than run, or a scale-down to more. The decision was taken before the
// count changed outside Headroom.
func against(d *proto.Decision, n int) bool {
	return d.Action == proto.ActionUp && d.To < n || d.Action == proto.ActionDown && d.To > n
}

// invalid returns why p's decision is not one the decider takes, or "".
// Its action must match its counts (up: To > From, down: To < From, hold:
// To == From), and a change must not take the tier further out of its
// replica bounds: an up ends at most at the tier's max, a down at least at
// its min. A change from outside the bounds towards them stays allowed:
// the decider makes it when the count was changed outside Headroom and the
// tier's max_step limits the way back. Bounds are checked where they are
// known (Config.bounds), with every driver; the counts' agreement with
// the action always. Refused, such a decision is recorded as skipped like
// any other refusal, in every mode. "Towards them" is judged from the
// count the tier has on record (p.recorded: one the executor set or the
// cluster reports), never from the decision's own From, which a decider
// identity can fill with any count: "down from 1000 to 999" must not
// scale a tier at 5, max 10, to 999. A tier with no such record (its first
// decision, holds after it, a change only acknowledged in dry-run or
// without authority or run in shadow: proto.ReplicaState.Claimed) gets no
// change outside its bounds. Where no bounds are known (the simulated
// cluster's tiers outside the file) a change is refused past
// proto.MaxReplicas: the simulated cluster keeps a boot time per replica
// asked for, so a billion replicas (the decider's identity stolen) would
// take gigabytes.
func (s *Service) invalid(p *step) string {
	d := p.d
	if d.Action == proto.ActionUp && d.To <= d.From || d.Action == proto.ActionDown && d.To >= d.From ||
		d.Action == proto.ActionHold && d.To != d.From {
		return fmt.Sprintf("inconsistent: action %s from %d to %d replicas", d.Action, d.From, d.To)
	}
	b, ok := s.cfg.bounds(d.App, d.Tier, p.driver != DriverSim && p.mode == ModeLive)
	switch {
	case !ok && d.Action == proto.ActionUp && d.To > proto.MaxReplicas:
		return fmt.Sprintf("out of bounds: up to %d replicas, above the %d a tier without configured bounds may have", d.To, proto.MaxReplicas)
	case !ok:
	case p.sync != "" && !p.clampable(b):
		return fmt.Sprintf("out of bounds: a sync %s %d→%d, outside the tier's bounds of %d to %d, is neither a hold at the %d on record nor a step from it towards them: only the record's count is clamped into them",
			d.Action, d.From, d.To, b.Min, b.Max, p.at)
	case p.sync != "":
		// A sync sets a count clamped into the bounds (syncCount).
	case d.To > b.Max && !p.towards(d.To > p.at):
		return fmt.Sprintf("out of bounds: %s to %d replicas, above the tier's max of %d%s", d.Action, d.To, b.Max, p.onRecord(d.Action == proto.ActionDown))
	case d.To < b.Min && !p.towards(d.To < p.at):
		return fmt.Sprintf("out of bounds: %s to %d replicas, below the tier's min of %d%s", d.Action, d.To, b.Min, p.onRecord(d.Action == proto.ActionUp))
	}
	return ""
}

// clampable reports whether p's sync may have its count clamped into b
// (syncCount): it ends within them, or outside them only because the
// count on record (p.at) is, the decision holding at it or stepping from
// it towards them (what the decider decides from a record above the max
// when max_step caps the way back). A decision that leaves the bounds
// itself (up past the max), or claims to start from another count than
// the record's (a decider identity can claim any From), is no decision
// the decider takes from the record: clamped, it would set a bound
// nothing decided.
func (p *step) clampable(b Bounds) bool {
	d := p.d
	switch {
	case d.To >= b.Min && d.To <= b.Max:
		return true
	case d.From != p.at:
		return false
	case d.To > b.Max:
		return d.To <= p.at
	default:
		return d.To >= p.at
	}
}

// towards reports whether p's change, ending outside the tier's bounds,
// moves towards them: a hold never acts, and a change does when the tier
// is on record (p.recorded) further out than where it ends (away false).
func (p *step) towards(away bool) bool {
	return p.d.Action == proto.ActionHold || p.recorded && !away
}

// onRecord ends the reason of a change refused for its bounds with the
// count it was judged from, where the decision claimed to move towards
// them (claimed); "" where it did not.
func (p *step) onRecord(claimed bool) string {
	switch {
	case !claimed:
		return ""
	case !p.recorded:
		return fmt.Sprintf(" (the decision claims %d run, but no count the executor set or read is on record)", p.d.From)
	}
	return fmt.Sprintf(" (the decision claims %d run; %d are on record)", p.d.From, p.at)
}

// refusal returns why a real driver must not act on p's decision, or "".
// The simulated cluster (the sim driver, shadow mode) runs in event time and
// acts on everything.
func (s *Service) refusal(ctx context.Context, p *step, m *bus.Msg, now time.Time) string {
	if p.driver == DriverSim || p.mode != ModeLive {
		return ""
	}
	d := p.d
	if reason := s.cfg.authorised(d.App, d.Tier); reason != "" {
		return reason
	}
	if slices.Contains(d.Flags, proto.FlagReplayedInput) {
		return replayedInput
	}
	if age, limit := now.Sub(proto.Time(d.TS)), s.cfg.maxAge(d.App, d.Tier, d.TickMS); age > limit {
		// A tick the decider held for a lagging tier ages meanwhile
		// (-decider.tier-lag bounds the wait, not this limit): refused
		// all the same, and the reason says which setting lets it act.
		waited := ""
		if s.waited.took(d.ID) {
			waited = "; it waited on another member's lease of the tier meanwhile"
		}
		return fmt.Sprintf("stale: decided %s ago, beyond the tier's limit of %s (-executor.max-age; a tick held for a lagging tier, by -decider.tier-lag at most, ages meanwhile)%s",
			age.Round(time.Second), limit, waited)
	}
	latest, found, err := s.newer(ctx, d, m, now)
	if err != nil {
		// Unknown: acting could replay a backlog; the next decision retries.
		return fmt.Sprintf("superseded: cannot tell whether a newer decision is stored: %v", err)
	}
	// Acting on d is acting on the latest decision if that one wants the
	// same count (typically a hold that followed it).
	if found && latest.to != d.To {
		because := ""
		if p.movedBefore {
			// The newer decision was stored while the change waited on
			// a driver that then found the count moved: the move, not
			// the newer decision, kept it from being made.
			because = "; judged again because the driver changed nothing, the tier's count having moved since the decision was first judged (moved): that move kept the change from being made"
		}
		return fmt.Sprintf("superseded: a newer decision for %s.%s is stored (seq %d after %d)%s", d.App, d.Tier, latest.seq, m.Seq, because)
	}
	return ""
}

// acknowledge records a change that is not carried out because of the
// app's mode (dry-run) or the lack of authority: the state takes the
// decided count as desired, so the decider does not repeat the same change
// every tick, and the scaling event says why nothing was done.
func (s *Service) acknowledge(p *step, reason string, log zerolog.Logger) {
	d := p.d
	p.st.Desired, p.st.DecisionID, p.st.Claimed, p.st.ClaimedBy = d.To, d.ID, true, claimedOr(d, proto.ClaimedUnauthorised)
	if reason == "dry-run" {
		p.st.ClaimedBy = claimedOr(d, proto.ClaimedDryRun)
		log.Info().Int("from", d.From).Int("to", d.To).Str("reason", d.Reason).Msg("dry-run: not acting")
		p.refuse(reason, "")
		return
	}
	log.Warn().Int("to", d.To).Str("why", reason).Msg("not acting")
	p.refuse(reason, "unauthorised")
}

// claimedOr returns the cause of a claim on d's count: by, or
// proto.ClaimedReplayed for a decision on replayed input
// (proto.FlagReplayedInput). Such a decision reaches acknowledge or the
// simulated cluster only for a tier the configuration file does not
// name (a named one refuses it keeping its record: replayKept), and
// claimed as only acknowledged its count was the record the decider
// held at once the file named the tier live, and the first live hold had
// the driver set it on the workload (syncDue): a replay acted on.
func claimedOr(d *proto.Decision, by string) string {
	if slices.Contains(d.Flags, proto.FlagReplayedInput) {
		return proto.ClaimedReplayed
	}
	return by
}

// replayedInput is the refusal of a change decided on replayed input
// (proto.FlagReplayedInput) for a tier a real driver may act on.
const replayedInput = notAuthorised + ": decided on replayed input, which is shown, never acted on"

// refuseKeeping records a change refused without authority, as
// acknowledge does, counted under why, but leaves the state as it was,
// its time included: the tier is live, and its state records what its
// driver runs and the live decision it last judged (a tier with no state
// yet stores none: see judge).
func (s *Service) refuseKeeping(p *step, reason, why string, log zerolog.Logger) {
	log.Warn().Int("to", p.d.To).Str("why", reason).Msg("not acting")
	p.refuse(reason, why)
	p.keepTime = true
}

// skip records a change refused for its age, its order or its counts: the
// state stays as it was, so a fresh decision can act.
func (s *Service) skip(p *step, reason string, log zerolog.Logger) {
	log.Warn().Int("to", p.d.To).Str("why", reason).Msg("not acting")
	p.refuse(reason, strings.SplitN(reason, ":", 2)[0])
	// A sync skipped for any reason (inconsistent, out of bounds, stale,
	// outdated) is refused: the record still owes the count, due again.
	p.markSync(syncRefused)
}

// change asks drv for the decision's count. A failed change leaves the
// state naming the decision whose count runs (the one before, "" for
// none): the ready and failed events of the replicas it started are that
// decision's. The count the state falls back to is on record as it was
// (step.recorded: carried out before, or read from the cluster now),
// except that with no decision before, one read from the cluster is on
// record again only where the next judgement reads the cluster too.
func (s *Service) change(ctx context.Context, p *step, drv Driver, cur Result, log zerolog.Logger) {
	d := p.d
	before := p.st.DecisionID
	owed := p.st // the record a sync owes the workload (see below)
	to := p.target()
	p.st.Desired, p.st.DecisionID = to, d.ID
	n := len(p.outs)
	p.emitReason(proto.StatusRequested, d.ID, "", p.sync)
	if p.sync != "" {
		log.Info().Int("desired", to).Str("why", p.sync).Msg("synced: setting the count the record holds")
	}
	start := time.Now()
	req := Request{App: d.App, Tier: d.Tier, Replicas: to, DecisionID: d.ID, Time: proto.Time(d.TS), Reason: d.Reason}
	if p.recorded {
		// The count judged from: the cluster's where the driver reads it,
		// else the one on record (see step.recorded).
		req.Judged, req.JudgedFrom = true, p.at
	}
	sctx := ctx
	if !p.deadline.IsZero() {
		// Counted from the take, not from here: time spent since (the
		// state read under the lease, a stalled process) is the lease's
		// too, and a call past the deadline is not started.
		var cancel context.CancelFunc
		sctx, cancel = context.WithDeadline(ctx, p.deadline)
		defer cancel()
	}
	r, err := drv.Scale(sctx, req)
	outcome := "ok"
	switch {
	case errors.Is(err, ErrMovedSinceJudged):
		outcome = "moved"
	case err != nil:
		outcome = "error"
	}
	s.driverTime.WithLabelValues(p.driver, outcome).Observe(time.Since(start).Seconds())
	if outcome == "moved" {
		// Someone changed the tier's count since p read it, and the driver
		// changed nothing: no failure, and no request to record; the
		// decision is judged again (see judge).
		p.outs, p.whys, p.syncs = p.outs[:n], p.whys[:n], p.syncs[:n]
		p.moved = fmt.Errorf("decision %s: %w", d.ID, err)
		if !cur.Cluster {
			// Judged from the count on record, the driver not observing
			// the tier (a kubernetes driver whose watch is not synced):
			// judged again, it is judged from that count again, and
			// refused again until the driver observes the tier. Say so
			// where the refusal shows (the log, a dead letter).
			p.moved = fmt.Errorf("decision %s, judged from the count on record (%d; the driver did not observe the tier: is its watch of the workload synced?): %w", d.ID, p.at, err)
		}
		return
	}
	if err != nil {
		log.Error().Err(err).Str("driver", p.driver).Str("mode", p.mode).Int("to", to).Msg("scale failed")
		if p.sync != "" {
			// A failed sync leaves the record as it was: still owing
			// the workload the count only acknowledged, so the next
			// decision, a hold included, syncs again. Fallen back to
			// the count the state saw running, claimed after a failed
			// change (never synced), the record would hold what the
			// simulated cluster ran (shadow: the very count the sync
			// was to set), the decider would hold there, and nothing
			// would ever ask the workload for it. One call per
			// decision, at the decider's tick, as a failed change the
			// decider decides again costs.
			p.st.Desired, p.st.DecisionID, p.st.Claimed, p.st.ClaimedBy = owed.Desired, owed.DecisionID, owed.Claimed, owed.ClaimedBy
			p.emit(proto.StatusFailed, d.ID, err.Error())
			p.markSync(syncFailed)
			return
		}
		// What runs is what the tier ran before: on record if that was,
		// else (a first decision's From, say) only claimed (failed):
		// not set again at each hold, which would call a failing
		// back-end at every tick of the decider; the decider decides the
		// change to the count it wants again from it.
		p.st.Desired, p.st.DecisionID, p.st.Claimed = cur.Ready+cur.Booting, before, !p.recorded
		p.st.ClaimedBy = ""
		if p.st.Claimed {
			p.st.ClaimedBy = proto.ClaimedFailed
		}
		p.emit(proto.StatusFailed, d.ID, err.Error())
		return
	}
	// The simulated cluster (shadow mode's, or the sim driver's) runs
	// nothing a real driver would find: its count is no record for one.
	// Carried out as the record, a sim driver's run (a demo, a trial on
	// the same bucket) stood as the command or webhook driver's once the
	// executor switched to it: "down 1000→999" judged towards a max of
	// 20 from the 1000 on record and acted. Claimed, it is judged as a
	// count shadow ran (see simulatedRecord).
	p.st.Ready, p.st.Booting, p.st.Claimed = r.Ready, r.Booting, p.driver == DriverSim
	p.st.ClaimedBy = ""
	if p.st.Claimed {
		p.st.ClaimedBy = claimedOr(d, proto.ClaimedShadow)
	}
	p.carried = true
	log.Info().Int("from", d.From).Int("to", to).Int("ready", r.Ready).Int("booting", r.Booting).
		Str("driver", p.driver).Str("mode", p.mode).Msg("scaled")
	p.emit(proto.StatusApplied, d.ID, "")
	p.markSync(syncCarried)
	if r.Failed > 0 {
		p.emit(proto.StatusFailed, d.ID, fmt.Sprintf("%d booting replica(s) failed", r.Failed))
	}
	if r.Booting == 0 && r.Ready == to {
		p.emit(proto.StatusReady, d.ID, "")
	}
}

// simulatedRecord reports whether prev, claimed, is a count the
// simulated cluster ran (proto.ClaimedShadow, or proto.ClaimedReplayed:
// the sim driver runs a replay's decisions too) that the executor's
// driver, the sim driver, ran itself: on record for it (it judges from
// its own cluster), never for a real driver, shadow mode's included. A
// replay's count the sim driver only acknowledged (a tier dry-run by the
// file) is on record for it as well, as nothing tells it from one it ran:
// it changes nothing real either way.
func (s *Service) simulatedRecord(prev *proto.ReplicaState) bool {
	return s.driverName == DriverSim && (prev.ClaimedBy == proto.ClaimedShadow || prev.ClaimedBy == proto.ClaimedReplayed)
}

// syncDue returns the reason of a sync when p's judgement must have the
// driver set the count p's tier has on record, "" when not. A sync is due
// when the record (prev) holds a count only acknowledged, never asked of
// the workload (proto.ReplicaState.ClaimOnlyAcknowledged: a change
// acknowledged in dry-run or without authority, or run by shadow mode's
// simulated cluster), and this judgement is the tier's first in which
// the executor's real driver may act on it: the mode is live (the file
// switched to live, or -executor.modes' brake released), the file names
// the tier live, and the driver cannot read the count back (command,
// webhook: not readsBack). Left as it was, the decider would decide from
// the count on record and hold there while the workload ran whatever it
// ran before the dry-run, under- or over-provisioned with nothing saying
// so. With a sync the first decision, a hold included, is carried out
// through the driver like a change (the drivers set an absolute count),
// with every check a change has (authority, staleness, supersession, the
// tier's lease) but the bounds: its count is clamped into them instead
// (syncCount; sets p.syncTo), where it lies outside them only as the
// record's count does (step.clampable; any other is refused, invalid);
// one refused leaves the claim for the next decision, so a sync is tried at
// most once per decision, at the rate the decider ticks. Carried out, the
// record holds the count carried out and no sync is due again. Failed,
// the record stays as it was, owing the count, and the next decision
// syncs again: one call per decision, what a failed change the decider
// decides again costs. (Fallen back as a failed change does, to the
// count the state saw running, claimed proto.ClaimedFailed, the record
// would hold what the simulated cluster ran, in shadow the very count
// the sync was to set: the decider would hold there and nothing would
// ask the workload for it again.) A count claimed after a failed change
// that was no sync is never synced: the decider decides the change again
// from the count before it, while set again at every hold it would call
// a failing back-end at each tick. A claim without a recorded
// cause (a state written before ClaimedBy) is not synced either: its
// judgement is as before. Where the driver reads the count back
// (kubernetes), the live judgement records the cluster's count instead,
// and the simulated cluster changes nothing real: no sync. Nor is a
// decision on replayed input (proto.FlagReplayedInput) ever one: it is
// refused as on any live tier (replayedInput, the record kept). Taken as
// a sync, its refusal would no longer read as a replay's and the tier
// would acknowledge it as one without authority: the replay's count,
// claimed so, would be the record the next genuine decision syncs the
// workload to.
func (s *Service) syncDue(p *step, prev *proto.ReplicaState) string {
	if prev == nil || !prev.ClaimOnlyAcknowledged() || p.mode != ModeLive || p.braked || p.driver != s.driverName ||
		!s.realDriverFor(p.d.App, p.d.Tier) || slices.Contains(p.d.Flags, proto.FlagReplayedInput) {
		return ""
	}
	if _, ok := s.driver.(readsBack); ok {
		return ""
	}
	var into string
	p.syncTo, into = s.syncCount(p)
	return fmt.Sprintf("synced: the record held a count %s (%d desired, decision %s), never asked of the workload: the driver sets %d%s",
		claimCause(prev.ClaimedBy), prev.Desired, prev.DecisionID, p.syncTo, into)
}

// target is the count p's change has the driver set: the decision's, or
// a sync's (syncTo).
func (p *step) target() int {
	if p.sync != "" {
		return p.syncTo
	}
	return p.d.To
}

// claimCause says, for a log line or a reason, why a count is claimed
// (proto.ReplicaState.ClaimedBy).
func claimCause(by string) string {
	switch by {
	case proto.ClaimedDryRun:
		return "only acknowledged in dry-run"
	case proto.ClaimedUnauthorised:
		return "only acknowledged without authority"
	case proto.ClaimedShadow:
		return "only run by shadow mode's simulated cluster"
	case proto.ClaimedFailed:
		return "claimed after a failed change"
	case proto.ClaimedBraked:
		return "the count the braked tier's driver was last asked for"
	case proto.ClaimedReplayed:
		return "decided on replayed input"
	}
	return "claimed"
}

// syncCount returns the count a sync of p's tier has the driver set: the
// decided count, clamped into the tier's bounds (the min and max the file
// sets, else the default policy's), and, when clamped, a clause saying so
// for its reason. The count on record was only acknowledged (or run by the
// simulated cluster) and may lie outside bounds the file changed since, or
// never had: the sim driver's, or a tier's first claimed count. Refused
// for its bounds, the sync was stuck: the record kept the count, the
// decider decided from it, and where max_step caps a decision's step (the
// policy's cap on what one decision adds or removes) the decided count
// stayed outside the bounds at every tick, refused again. The decided
// count already respects max_step, taken from the count on record; the
// workload's own count is what nothing knows (the reason a sync is due),
// so the clamp into the bounds is no step from a count and max_step does
// not hold it back: the sync lands on the bound nearest the decided count,
// and the tier is judged from a count its driver carried out thereafter.
// Only such a count is clamped: one outside the bounds for any other
// reason (a decision leaving them, or claiming another count than the
// record's) is refused before (invalid, step.clampable).
func (s *Service) syncCount(p *step) (int, string) {
	to := p.d.To
	b, ok := s.cfg.bounds(p.d.App, p.d.Tier, true)
	if !ok || to >= b.Min && to <= b.Max {
		return to, ""
	}
	clamped := min(max(to, b.Min), b.Max)
	return clamped, fmt.Sprintf(" (the decided %d clamped into the tier's bounds of %d to %d)", to, b.Min, b.Max)
}

// refusedRetryBase is the first wait of the in-place retries of a scaling
// event or a tier's state refused for the executor's permissions,
// doubling from there to bus.RefusedRetryMax (bus.RefusedBackoff).
const refusedRetryBase = time.Second

// storeRefused publishes o; one the server refuses for the executor's
// permissions (bus.IsRefused: nats.conf does not let it publish its
// events, a misconfiguration an operator fixes) is published again after
// a growing wait, until stored, ctx ends or the executor stops
// (s.stopping: ctx, a handling's, outlives the stop, and the consumer's
// drain waits for the handler, so Run would not return while nats.conf
// stayed wrong; the decision is then redelivered after the restart). The
// events record what the driver did: the decision's handling fails when
// they are not stored, and judged again on its next delivery, the change
// found already running would make no events, losing them; and the
// refusals, which come at once, would use its 5 deliveries up in seconds.
// Meanwhile the decision is kept in progress (ConsumerSpec.Progress), and
// the tier's lease, when its change took one, is kept renewed
// (tierLease.keep).
func (s *Service) storeRefused(ctx context.Context, o bus.Out) error {
	return s.waitRefused(ctx, refusedWrite{what: "scaling event", noun: "event", again: "published", subject: o.Subject, id: o.Msg.MsgID()},
		func(ctx context.Context) error { return s.bus.Publish(ctx, o) })
}

// putRefused is put, its write refused for the executor's permissions
// (nats.conf not letting it write the replica bucket) tried again in
// place as storeRefused does: the state records what the driver did,
// and the decision judged again on its next delivery, from the state
// without the change, had the driver carry it out again, each delivery
// refused the same way until the decision was dead-lettered, the change
// made and its record never stored.
func (s *Service) putRefused(ctx context.Context, k limits.Key, st *proto.ReplicaState) error {
	return s.waitRefused(ctx, refusedWrite{what: "replica state", noun: "state", again: "written", subject: proto.ReplicaKey(k.App, k.Tier), id: st.DecisionID},
		func(ctx context.Context) error { return s.put(ctx, k, st) })
}

// refusedWrite names a write waitRefused retries, for its log lines.
type refusedWrite struct {
	what    string // "scaling event"
	noun    string // "event"
	again   string // "published"
	subject string // its subject, or the bucket's key
	id      string // the message's id, or the decision the state names
}

// waitRefused runs write, and again after a growing wait while the server
// refuses it for the executor's permissions (bus.IsRefused), until it
// succeeds or fails otherwise, ctx ends or the executor stops (see
// storeRefused): bus.UntilAllowed's loop.
func (s *Service) waitRefused(ctx context.Context, w refusedWrite, write func(ctx context.Context) error) error {
	u := bus.UntilAllowed{Refused: s.refusedRetry, Stop: s.stopping,
		Failed: func(attempt, n int, err error, wait time.Duration) {
			s.log.WithLevel(bus.RefusedLevel(n, zerolog.ErrorLevel)).Err(err).Str("subject", w.subject).Str("msg_id", w.id).Int("attempt", attempt).Dur("retry_in", wait).
				Msgf("%s refused by the server's permissions (check nats.conf): its decision waits, in progress, and the %s is %s again", w.what, w.noun, w.again)
		}}
	attempts, err := u.Do(ctx, write)
	switch {
	case err == nil && attempts > 1:
		s.log.Info().Str("msg_id", w.id).Int("attempts", attempts).Msgf("%s stored once the server allowed it", w.what)
	case errors.Is(err, bus.ErrStopped):
		s.log.Error().Err(err).Str("subject", w.subject).Str("msg_id", w.id).Int("attempts", attempts).
			Msgf("%s not stored: the executor stops while the server refuses it; its decision is left for redelivery", w.what)
	}
	return err
}
