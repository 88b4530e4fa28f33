package policy

import "time"

// phase is a tier's state in the scaling state machine.
type phase int

// The scaling state machine. A tier is steady until the wanted count moves:
//
//	steady ──want>current──► cooldown-up ──CooldownUp elapsed──► steady
//	steady ──want<current──► pending-down ──low for ScaleDownStabilization──► (scale down) cooldown-down
//	cooldown-down ──CooldownDown elapsed──► steady
//
// A scale-up is refused only inside cooldown-up (unless a load incident is
// open); a scale-down needs the wanted count to have stayed below the current
// count for the whole stabilisation window and CooldownDown to have passed
// since the last scaling.
const (
	steady phase = iota
	cooldownUp
	pendingDown
	cooldownDown
)

// String returns the state name carried in decisions.
func (p phase) String() string {
	switch p {
	case cooldownUp:
		return "cooldown-up"
	case pendingDown:
		return "pending-down"
	case cooldownDown:
		return "cooldown-down"
	default:
		return "steady"
	}
}

// wantAt is a wanted count remembered for the stabilisation window.
type wantAt struct {
	t    time.Time
	want int
}

// machine is the explicit hysteresis state of one tier.
type machine struct {
	phase      phase
	lastUp     time.Time
	lastChange time.Time
	changed    bool
	upped      bool
	wants      []wantAt
	stabilise  time.Duration
	// window, when positive and shorter than stabilise, is the
	// stabilisation window this step uses (the hold skill's choice).
	window      time.Duration
	coolUp      time.Duration
	coolDown    time.Duration
	maxStep     int
	belowSince  time.Time
	belowActive bool
	lastCount   int
	// stepped is the time of the last step; undo is what the machine's
	// last change (at undo.at) replaced, for withdraw.
	stepped time.Time
	undo    changeMark
}

// changeMark is the part of a machine a change commits: the cool-downs'
// marks and the phase.
type changeMark struct {
	at         time.Time
	phase      phase
	lastUp     time.Time
	lastChange time.Time
	upped      bool
	changed    bool
}

// mark remembers, at t, what the change about to be made replaces.
func (m *machine) mark(t time.Time) {
	m.undo = changeMark{at: t, phase: m.phase, lastUp: m.lastUp, lastChange: m.lastChange, upped: m.upped, changed: m.changed}
}

// withdraw undoes the change the machine made at t, if it is its last
// change: the change was never carried out (its decision was dropped
// unstored), so it starts no cool-down. Steps after it that held (an
// outage's backlog decided them before the drop was known) depend on it
// only through the count it set, which the caller restores; a later
// change was decided from that count, and keeps it. It reports whether it
// did.
func (m *machine) withdraw(t time.Time) bool {
	if !m.changed || !m.lastChange.Equal(t) || !m.undo.at.Equal(t) {
		return false
	}
	u := m.undo
	m.lastUp, m.lastChange, m.upped, m.changed = u.lastUp, u.lastChange, u.upped, u.changed
	if m.stepped.Equal(t) {
		m.phase = u.phase
	} else {
		m.phase = m.settled(m.stepped)
	}
	m.undo = changeMark{}
	return true
}

// settled is the phase a hold at t leaves under the machine's cool-down
// marks: a cool-down while it lasts, a pending scale-down (which only a
// hold's own step enters) as it is, else steady. withdraw reads it for the
// phase the holds behind a withdrawn change would have left.
func (m *machine) settled(t time.Time) phase {
	switch {
	case m.phase == cooldownUp && m.upped && t.Sub(m.lastUp) < m.coolUp:
		return cooldownUp
	case m.phase == cooldownDown && m.changed && t.Sub(m.lastChange) < m.coolDown:
		return cooldownDown
	case m.phase == pendingDown:
		return pendingDown
	}
	return steady
}

// maxWant returns the highest of want and the wants remembered within win
// before t.
func (m *machine) maxWant(t time.Time, win time.Duration, want int) int {
	for _, w := range m.wants {
		if t.Sub(w.t) < win {
			want = max(want, w.want)
		}
	}
	return want
}

// verdict is what the machine decided and why.
type verdict struct {
	to         int
	action     string
	why        string // short clause for the reason
	stabilised int    // the highest wanted count in the stabilisation window
}

// step advances the machine at t with the current count and the wanted
// count; urgent (a load incident) lifts the up cool-down and step cap, and
// holdDown (a performance incident) refuses scale-downs.
func (m *machine) step(t time.Time, current, want int, urgent, holdDown bool) verdict {
	m.stepped = t
	keep := m.wants[:0]
	for _, w := range m.wants {
		if t.Sub(w.t) < m.stabilise {
			keep = append(keep, w)
		}
	}
	m.wants = append(keep, wantAt{t, want})
	win := m.stabilise
	if m.window > 0 && m.window < win {
		win = m.window
	}
	stab := m.maxWant(t, win, want)
	if want >= current || current != m.lastCount {
		// The low spell is measured against the current count; a new
		// count (scaled, or changed outside the policy) starts it afresh.
		m.belowActive = false
	}
	m.lastCount = current
	if want < current && !m.belowActive {
		m.belowActive, m.belowSince = true, t
	}
	v := verdict{to: current, action: ActionHold, stabilised: stab}
	switch {
	case want > current:
		if !urgent && m.upped && t.Sub(m.lastUp) < m.coolUp {
			m.phase = cooldownUp
			v.why = "up cool-down (" + fmtDur(m.coolUp-t.Sub(m.lastUp)) + " left)"
			return v
		}
		to := want
		if m.maxStep > 0 && !urgent {
			to = min(to, current+m.maxStep)
		}
		m.mark(t)
		m.lastUp, m.upped = t, true
		m.lastChange, m.changed = t, true
		m.phase = steady
		if m.coolUp > 0 {
			m.phase = cooldownUp
		}
		v.to, v.action = to, ActionUp
		return v
	case want < current:
		if stab >= current {
			m.phase = pendingDown
			v.why = "wanted " + itoa(want) + " for " + fmtDur(t.Sub(m.belowSince)) + " of the " + fmtDur(win) + " stabilisation window"
			return v
		}
		if m.changed && t.Sub(m.lastChange) < m.coolDown {
			m.phase = cooldownDown
			v.why = "down cool-down (" + fmtDur(m.coolDown-t.Sub(m.lastChange)) + " left)"
			return v
		}
		if holdDown {
			m.phase = pendingDown
			v.why = "scale-down held during a performance incident"
			return v
		}
		to := stab
		if m.maxStep > 0 {
			to = max(to, current-m.maxStep)
		}
		m.mark(t)
		m.lastChange, m.changed = t, true
		m.phase = steady
		if m.coolDown > 0 {
			m.phase = cooldownDown
		}
		v.to, v.action = to, ActionDown
		return v
	}
	if m.phase == cooldownUp && t.Sub(m.lastUp) >= m.coolUp {
		m.phase = steady
	}
	if m.phase == cooldownDown && t.Sub(m.lastChange) >= m.coolDown {
		m.phase = steady
	}
	if m.phase == pendingDown {
		m.phase = steady
	}
	return v
}
