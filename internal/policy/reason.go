package policy

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

func itoa(n int) string { return strconv.Itoa(n) }

// fmtDur prints a duration compactly: "90s", "5 min", "1.5 h".
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return strconv.FormatFloat(d.Minutes(), 'f', -1, 64) + " min"
	default:
		return strconv.FormatFloat(math.Round(d.Hours()*10)/10, 'f', -1, 64) + " h"
	}
}

// fmtNum prints a load with about three significant digits.
func fmtNum(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1 || a == 0:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// baseText says what the base load was made of.
func (tr *tier) baseText(e evaluation) string {
	switch {
	case !e.hasForecast:
		return "recent level " + fmtNum(e.level)
	case tr.app.ForecastWeight <= 0:
		if e.fmax > e.level {
			return "forecast " + fmtNum(e.fmax) + " above recent level " + fmtNum(e.level)
		}
		return "recent level " + fmtNum(e.level) + " above forecast " + fmtNum(e.fmax)
	}
	s := fmt.Sprintf("base %s from recent level %s and forecast %s", fmtNum(e.base), fmtNum(e.level), fmtNum(e.fnow))
	if e.rise > 0.05*e.base {
		s += fmt.Sprintf(" rising by %s", fmtNum(e.rise))
	}
	return s
}

// floorText says what the reactive floor provisions for: the current load
// (with its least headroom), the ramp it is on, or the rise seen at this
// time of day on the last days (the seasonal guard).
func (tr *tier) floorText(e evaluation, unit string) string {
	switch e.reactBy {
	case "season":
		return fmt.Sprintf("the rise seen at this time of day on each of the last two days (× %.2f over the level), expected again: recent level %s × %.2f = %s %s over the next %s",
			e.seasonal, fmtNum(e.level), e.seasonal, fmtNum(e.react), unit, fmtDur(max(tr.horizon, time.Minute)))
	case "phase":
		return fmt.Sprintf("the rise seen at this minute of the hour in at least %d of the last %d hours (× %.2f over the level), expected again: recent level %s × %.2f = %s %s over the next %s",
			phaseSeen, phaseHours, e.phase, fmtNum(e.level), e.phase, fmtNum(e.react), unit, fmtDur(max(tr.horizon, time.Minute)))
	case "week":
		seen := fmt.Sprintf("in each of the last %d weeks", weekSeen)
		if e.weekBy == 1 {
			seen = "a week ago, and at this time of day on another remembered day (a schedule, which came when last tested here)"
		}
		level := "recent level"
		if tr.wk != nil && tr.wk.fromStart {
			level = "level at the 5-minute bucket's start"
		}
		return fmt.Sprintf("the rise seen at this time of the week %s (× %.2f over the level), expected again: %s %s × %.2f = %s %s over the next %s",
			seen, e.weekly, level, fmtNum(e.weekBase), e.weekly, fmtNum(e.react), unit, fmtDur(max(tr.horizon, time.Minute)))
	case "outage":
		return fmt.Sprintf("the %d replicas held while the load stays flat at %s %s (a feed or traffic cut off, not demand: it comes back at once)", e.floor, fmtNum(e.load), unit)
	case "ramp":
		by := ""
		if e.upRamp {
			by = " (the " + tr.cfg.Upstream + " tier's ramp, scaled)"
		}
		return fmt.Sprintf("current load %s %s rising by %s a tick%s: %s %s over the next %s", fmtNum(e.load), unit, fmtNum(e.ramp), by, fmtNum(e.react), unit, fmtDur(tr.rampWindow()))
	}
	if e.react > e.load*(1+1e-9) {
		return fmt.Sprintf("current load %s %s with its least headroom (%s)", fmtNum(e.load), unit, fmtNum(e.react))
	}
	return fmt.Sprintf("current load %s %s", fmtNum(e.load), unit)
}

// reason writes the plain-language explanation of a tier's decision.
func (tr *tier) reason(e evaluation, current int, v verdict, perf, loadInc bool) string {
	c := tr.cfg
	unit := c.LoadMetric
	if unit == "" {
		unit = "load"
	}
	base := tr.baseText(e)
	if sized := e.sizedBase(); e.base < sized {
		// The lowest level bin's ratios are of peaks over its lower edge.
		base += ", taken as the lowest bin's " + fmtNum(sized)
	}
	demand := fmt.Sprintf("p%g %s %s over the next %s (%s, × peak ratio %.2f)",
		math.Round(e.quantile*1000)/10, fmtNum(e.demand), unit, fmtDur(tr.horizon), base, e.ratio)
	fit := func(n int) string {
		return fmt.Sprintf("%d × %s %s at %d %% target", n, fmtNum(e.capacity), unit, int(math.Round(c.Target*100)))
	}
	var s string
	switch v.action {
	case ActionUp:
		s = fmt.Sprintf("%s %d→%d: %s exceeds %s", c.Name, current, v.to, demand, fit(current))
		if e.floor > current && e.floor >= e.want {
			s = fmt.Sprintf("%s %d→%d: %s exceeds %s", c.Name, current, v.to, tr.floorText(e, unit), fit(current))
		}
		if v.to < e.want {
			s += fmt.Sprintf("; step capped at %d of %d wanted", v.to, e.want)
		}
	case ActionDown:
		s = fmt.Sprintf("%s %d→%d: %s has stayed within %s for %s", c.Name, current, v.to, demand, fit(v.to), fmtDur(c.ScaleDownStabilization))
	default:
		if e.reactBy == "outage" && e.want >= current {
			s = fmt.Sprintf("%s holds %d: %s", c.Name, current, tr.floorText(e, unit))
		} else if v.why != "" {
			s = fmt.Sprintf("%s holds %d (wants %d): %s; %s", c.Name, current, e.want, v.why, demand)
		} else {
			s = fmt.Sprintf("%s holds %d: %s fits %s", c.Name, current, demand, fit(current))
		}
	}
	if loadInc {
		s += "; load incident open: provisioning for the recent peak at once"
	}
	if perf {
		// The action and the note must not contradict each other: an up
		// decided on demand says the incident added nothing to it.
		if v.action == ActionUp {
			s += "; a performance incident is also open (latency or errors up without more demand): the added replicas are for the demand, none for the incident"
		} else {
			s += "; performance incident open (latency or errors up without more demand): not scaling up on it"
		}
	}
	return s
}
