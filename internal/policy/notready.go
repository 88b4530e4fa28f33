package policy

import (
	"fmt"
	"time"
)

// notReady follows the replicas a tier holds that do not become ready: a
// pod stuck pending or failing its readiness probe stays in the count the
// tier is held at (the executor's desired, the workload's spec.replicas)
// while it never serves. It is pure: fed each tick's counts and event time.
//
// Progress is a tick with nothing booting or with more replicas ready than
// the tick before. Replicas held at every tick since the last progress and
// not ready now have been waiting at least that long; once it exceeds the
// tier's stuck limit (stuckAfter) they are reported. Replicas added after
// the last progress are left out (they may still be booting), and progress
// starts the clock again, so the count errs low and late, never high.
type notReady struct {
	since    int64 // event time (Unix ms) of the last progress
	minTotal int   // fewest replicas held at a tick since then; 0: none yet
	ready    int   // ready replicas at the previous tick
}

// waiting returns in's booting replicas and the count the tier is held at
// (total, in.Current()) without the absent ones, which wait for nothing.
func waiting(in TierInput, total int) (booting, held int) {
	a := max(0, in.Absent)
	return max(0, in.Booting-a), total - a
}

// observe folds one tick in: in's counts, total the count the tier is held
// at (in.Current()).
func (nr *notReady) observe(t time.Time, in TierInput, total int) {
	booting, total := waiting(in, total)
	if booting <= 0 || in.Ready > nr.ready || nr.since == 0 {
		nr.since, nr.minTotal = t.UnixMilli(), 0
	} else if nr.minTotal == 0 || total < nr.minTotal {
		nr.minTotal = total
	}
	nr.ready = in.Ready
}

// stuck returns how many of in's booting replicas have waited beyond after
// to become ready at t, and how long they have waited (0, 0 when none).
func (nr *notReady) stuck(t time.Time, in TierInput, after time.Duration) (int, time.Duration) {
	waited := t.Sub(time.UnixMilli(nr.since))
	if nr.minTotal == 0 || waited <= after {
		return 0, 0
	}
	booting, _ := waiting(in, 0)
	n := min(booting, nr.minTotal-in.Ready)
	if n <= 0 {
		return 0, 0
	}
	return n, waited
}

// stuckAfter is how long a tier's replica may stay not ready before it
// counts as stuck: twice the lead time (the time a replica takes to become
// ready), and at least the lead time plus two ticks.
func (tr *tier) stuckAfter() time.Duration {
	return max(2*tr.cfg.LeadTime, tr.cfg.LeadTime+2*tr.app.Tick)
}

// notReadyText is the clause a decision's reason carries while n of the
// current replicas have not become ready for waited: they stay counted as
// running (never silently replaced), and an up adds on top of them.
func (tr *tier) notReadyText(n, current int, waited time.Duration, action string) string {
	s := fmt.Sprintf("; %d of the %d replicas not ready after %s (lead time %s): counted as running, not replaced",
		n, current, fmtDur(waited.Truncate(time.Second)), fmtDur(tr.cfg.LeadTime))
	if action == ActionUp {
		s += ", and the replicas added come on top of them"
	}
	return s
}
