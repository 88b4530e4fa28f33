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
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// reason writes the plain-language explanation of a tier's decision.
func (tr *tier) reason(e evaluation, current int, v verdict, perf, loadInc bool) string {
	c := tr.cfg
	unit := c.LoadMetric
	if unit == "" {
		unit = "load"
	}
	src := "recent level " + fmtNum(e.level)
	if e.hasForecast && e.fmax >= e.level {
		src = "forecast " + fmtNum(e.fmax)
	}
	q := fmt.Sprintf("p%g", math.Round(c.Quantile*1000)/10)
	demand := fmt.Sprintf("%s %s %s over the next %s (%s × peak ratio %.2f)",
		q, fmtNum(e.demand), unit, fmtDur(tr.horizon), src, e.ratio)
	fit := func(n int) string {
		return fmt.Sprintf("%d × %s %s at %d %% target", n, fmtNum(e.capacity), unit, int(math.Round(c.Target*100)))
	}
	var s string
	switch v.action {
	case ActionUp:
		s = fmt.Sprintf("%s %d→%d: %s exceeds %s", c.Name, current, v.to, demand, fit(current))
		if e.floor > current && e.floor >= e.want {
			s = fmt.Sprintf("%s %d→%d: current load %s %s exceeds %s", c.Name, current, v.to, fmtNum(e.load), unit, fit(current))
		}
		if v.to < e.want {
			s += fmt.Sprintf("; step capped at %d of %d wanted", v.to, e.want)
		}
	case ActionDown:
		s = fmt.Sprintf("%s %d→%d: %s has stayed within %s for %s", c.Name, current, v.to, demand, fit(v.to), fmtDur(c.ScaleDownStabilization))
	default:
		if v.why != "" {
			s = fmt.Sprintf("%s holds %d (wants %d): %s; %s", c.Name, current, e.want, v.why, demand)
		} else {
			s = fmt.Sprintf("%s holds %d: %s fits %s", c.Name, current, demand, fit(current))
		}
	}
	if loadInc {
		s += "; load incident open: provisioning for the recent peak at once"
	}
	if perf {
		s += "; performance incident open (latency or errors up without more demand): not scaling up on it"
	}
	return s
}
