package policy

import (
	"math"
	"slices"
	"time"

	"github.com/headroomhq/headroom/internal/hpa"
)

// skill picks a tier's operating point by realised skill against the
// Kubernetes HPA rule (AppConfig.SkillQuantiles). Beside the live policy it
// runs, on the tier's own observed load, shadow copies of the policy at
// every candidate quantile and scale-down window, and shadow HPA rules at
// several targets, each with a simulated cluster of the tier's lead time:
// a count decided at the end of a tick serves once the lead time has
// passed, and a reduction acts at once, so the replicas serving at a tick
// are the fewest decided over the last lead time plus one tick. For every
// shadow it keeps exponentially weighted rates of under-provisioned ticks
// (load above ready × capacity), of unserved load and of replicas paid for.
// The HPA shadows draw the Kubernetes rule's cost/quality curve on this
// very traffic; each policy candidate is placed on it at its own cost, and
// the candidate with the smallest worse-of-two ratio to HPA at equal cost
// is the one the tier runs. Everything is computed from the past only.
type skill struct {
	cands []shadow
	hpas  []hpaShadow
	// serve is the number of past decisions the serving count is the
	// minimum of (lead time in ticks plus one).
	serve int
	alpha float64
	ticks int
	warm  int // skillWarm in ticks
	pick  int
	// start is the candidate the selector starts at (see newSkill). On a
	// 3-minute tier leaving it needs skillMargin on the paired days
	// (needsMargin), whatever the switch: the first days' ratings rest on
	// a policy whose calibration is young, and one day of them is one
	// sample of the load's shape.
	start int
	load  float64 // exponentially weighted load, the scale of unserved
	// evidence: a switch to a costlier candidate needs skillMargin, not
	// skillSwitch (a tier whose lead window is longer than
	// skillMemoryWindow, see skillMargin), and the selector starts at its
	// cheapest candidate (the lowest quantile with the shortest window,
	// which on such a tier is no hold beyond the tick), not the
	// configured point: on such a tier a costlier point, a hold
	// included, is taken on evidence only, and the configured point is
	// not exempt (internal/scaleeval/EXPERIMENTS.md, the sixteenth and
	// twenty-sixth rounds). Its HPA shadows draw the curve at finer
	// steps (skillTargetsFor).
	evidence bool
	// The margin counts evidence in days (skillWarm, the load's cycle)
	// rather than runs: the misses of one day share its load's shape and are
	// not independent. They are kept on every tier (needsMargin). days[i] is
	// the exponentially decayed count of days on which candidate i missed;
	// alone[i][j] of those on which j did not miss (the discordant days of
	// the pair, the paired evidence skillMargin reads). first[i] is the tick
	// of i's first miss of its latest day with one (a day is warm ticks,
	// counted from the first tick), so i has missed today when first[i]
	// falls in the current day.
	days  []float64
	alone [][]float64
	first []int
	// On an evidence tier, the paired days read by their own ratings
	// (wonBy, endDay): won[i][j] is the decayed count of whole days after
	// the warm-up on which candidate i, rated on that day alone, did
	// better than j. dayEnd holds every shadow's scores (the candidates'
	// then the HPA shadows') at the end of the last whole day (nil before
	// the first); dayOwn and dayRate are endDay's scratch, kept so that
	// closing a day allocates nothing.
	won     [][]float64
	dayEnd  []shadowScore
	dayOwn  []shadowScore
	dayRate []float64
	// pts is curve's and endDay's scratch: the HPA shadows' scores sorted
	// by cost, drawn once per choice or day and shared by every candidate.
	pts []shadowScore
}

// shadow is one candidate operating point of the policy.
type shadow struct {
	q     float64
	win   time.Duration
	wants []wantAt // wants within win
	past  []int    // the last serve decisions
	score shadowScore
}

// hpaShadow is the HPA rule at one target on a simulated cluster.
type hpaShadow struct {
	a     *hpa.Autoscaler
	past  []int
	score shadowScore
}

// shadowScore holds the exponentially weighted rates of one shadow.
type shadowScore struct {
	under, unserved, cost float64
	missed                bool // the last tick was missed
}

// skillTargets are the HPA targets whose shadows draw the curve (and
// their midpoints on an evidence tier, skillTargetsFor).
var skillTargets = []float64{0.4, 0.5, 0.6, 0.7, 0.8, 0.9}

// Constants of the choice: the rates weigh about the last skillMemory
// on a tier whose lead window is skillMemoryWindow, and as many lead
// windows on a tier with a longer one (skillMemoryFor);
// skillWarm of history passes before any candidate but the first one
// (the configured quantile with the short window, or on a long-lead tier
// the cheapest candidate) is run; a new candidate must be better by
// skillSwitch (relatively) to replace the running one, since every switch
// mixes two operating points, which on a convex curve is worse than
// either, and a costlier one on a long-lead tier, or on a 3-minute tier
// one with a longer scale-down window or any one away from the start
// point, by skillMargin, which widens that with
// skillEvidence standard errors of the log of a ratio of the days with a
// miss behind the two, paired; skillEpsUnder and
// skillEpsUnserved keep ratios of rare misses finite (as a rate of ticks,
// and relative to the load).
const (
	skillMemory       = 7 * 24 * time.Hour
	skillMemoryWindow = 4 * time.Minute
	skillSwitch       = 0.1
	skillWarm         = 24 * time.Hour
	skillEpsUnder     = 2.5e-4
	skillEpsUnserved  = 1e-4
	skillEvidence     = 1.0
)

// longLead reports whether a tier whose lead window (tick plus lead time)
// is horizon is a long-lead tier, its window longer than
// skillMemoryWindow (the 10-minute database): there the selector is an
// evidence selector (skill.evidence), and the calibration keeps random
// jumps out of the level bins and learns the plateau bin over the whole
// window (tier.learnWindow, demand.cutAt).
func longLead(horizon time.Duration) bool { return horizon > skillMemoryWindow }

// skillMemoryFor is how long the selector's rates remember on a tier
// whose lead window (tick plus lead time) is horizon: skillMemory up to a
// window of skillMemoryWindow (a 3-minute lead), and as many windows as
// that holds on a longer one. A tier's misses come in runs of up to a
// lead window (a shortfall lasts until a replica asked for boots), so a
// week of a 10-minute tier holds about a third as many independent
// misses as a week of a 3-minute one: its rates are that much noisier,
// and the selector, reading noise as skill, switches between operating
// points, whose mix lies above HPA's curve where that curve is convex
// (TestSkillMemoryScalesWithTheLead).
func skillMemoryFor(horizon time.Duration) time.Duration {
	if horizon <= skillMemoryWindow {
		return skillMemory
	}
	return time.Duration(float64(skillMemory) * float64(horizon) / float64(skillMemoryWindow))
}

// skillTargetsFor returns the HPA targets whose shadows draw a tier's
// curve: skillTargets, and on an evidence tier skillTargetsFine. HPA's
// curve on a long-lead tier has its knee between two of skillTargets
// (about 0.80–0.90 on the database), and the chord between them lies
// above the curve: it overrated the cheap points the evidence tier starts
// at by a quarter to a third (the seventeenth round in
// internal/scaleeval/EXPERIMENTS.md), so the selector kept a losing cheap
// point for days. The midpoints halve the step to 0.05 (the step the
// evaluation read HPA's curve at until it read every 0.01); a 3-minute
// tier keeps the coarser curve (read finer there, ClarkNet's
// cross-validated figures missed their goal, the seventeenth round). The
// forty-fifth round read every tier at 0.05 up to the evaluation's 0.95:
// the losing rows chose the same points, a batch database newly lost,
// and ClarkNet got worse; every 0.01 is over the memory budget
// (internal/membudget TestBudget: about 670 B a shadow, with room for
// about six more).
func skillTargetsFor(evidence bool) []float64 {
	if evidence {
		return skillTargetsFine
	}
	return skillTargets
}

// skillTargetsFine is skillTargets with their midpoints, every 0.05.
var skillTargetsFine = func() []float64 {
	ts := make([]float64, 0, 2*len(skillTargets)-1)
	for i, t := range skillTargets {
		if i > 0 {
			ts = append(ts, (skillTargets[i-1]+t)/2)
		}
		ts = append(ts, t)
	}
	return ts
}()

// newSkill returns the selector for a tier, or nil when the app does not
// select by skill.
func newSkill(cfg TierConfig, app *AppConfig, horizon time.Duration) *skill {
	if len(app.SkillQuantiles) == 0 {
		return nil
	}
	s := &skill{serve: max(1, int(horizon/app.Tick)), alpha: math.Min(1, float64(app.Tick)/float64(skillMemoryFor(horizon))), warm: int(skillWarm / app.Tick), evidence: longLead(horizon)}
	wins := []time.Duration{cfg.ScaleDownStabilization}
	if sh := app.ShortStabilization; sh > 0 && sh < cfg.ScaleDownStabilization {
		wins = append(wins, sh)
	}
	if s.evidence && app.Tick < slices.Min(wins) {
		// No hold beyond the tick: the cheapest window, where an
		// evidence tier starts, so that a hold too is taken on evidence
		// rather than granted. On the shop's database every point with
		// a hold lost to HPA on some seeds (shop-s18: p90/3m 1.003 of
		// HPA's unserved demand, p90 with no hold 0.989; the
		// twenty-sixth round in internal/scaleeval/EXPERIMENTS.md):
		// the spikes a 10-minute tier cannot meet pass before a hold
		// pays, so it only costs there.
		wins = append(wins, app.Tick)
	}
	qs := append([]float64{cfg.Quantile}, app.SkillQuantiles...)
	for _, q := range qs {
		for _, w := range wins {
			if slices.ContainsFunc(s.cands, func(c shadow) bool { return c.q == q && c.win == w }) {
				continue
			}
			s.cands = append(s.cands, shadow{q: q, win: w})
		}
	}
	for _, tg := range skillTargetsFor(s.evidence) {
		hc := hpa.DefaultConfig(tg)
		hc.Min, hc.Max = cfg.Min, cfg.Max
		a, err := hpa.New(hc)
		if err != nil {
			continue
		}
		s.hpas = append(s.hpas, hpaShadow{a: a})
	}
	if s.evidence { // start at the cheapest candidate (see skill.evidence)
		for i, c := range s.cands {
			if p := s.cands[s.pick]; c.q < p.q || (c.q == p.q && c.win < p.win) {
				s.pick = i
			}
		}
	} else { // the configured quantile with the short window (see needsMargin)
		for i, c := range s.cands {
			if p := s.cands[s.pick]; c.q == cfg.Quantile && c.win < p.win {
				s.pick = i
			}
		}
	}
	s.start = s.pick
	n := len(s.cands)
	s.alone = make([][]float64, n)
	for i := range s.alone {
		s.alone[i] = make([]float64, n)
	}
	s.days, s.first = make([]float64, n), make([]int, n)
	if s.evidence {
		s.won = make([][]float64, n)
		for i := range s.won {
			s.won[i] = make([]float64, n)
		}
	}
	return s
}

// pair updates the days with a miss and the discordant days
// (skill.days, skill.alone) with the candidates' misses of this tick,
// read from their scores after add. A candidate's first miss of a day
// counts that day for it, and against every candidate that has not missed
// that day yet, at the weight a new day gets; when one of those misses
// later the same day, the count is taken back at the weight it has decayed
// to since. So alone[i][j] is always the decayed count of the days on
// which i missed and j has not (so far).
func (s *skill) pair() {
	perDay := max(1, s.warm)
	start := (s.ticks - 1) / perDay * perDay // the tick before today's first
	today := func(i int) bool { return s.first[i] > start }
	d := 1 - s.alpha
	for i := range s.alone {
		s.days[i] *= d
		for j := range s.alone[i] {
			s.alone[i][j] *= d
		}
	}
	for i := range s.cands {
		if !s.cands[i].score.missed || today(i) {
			continue
		}
		s.first[i] = s.ticks
		s.days[i]++
		for j := range s.cands {
			switch {
			case j == i:
			case !today(j):
				s.alone[i][j]++
			default: // j missed earlier today: its day is shared now
				s.alone[j][i] = max(0, s.alone[j][i]-math.Pow(d, float64(s.ticks-s.first[j])))
			}
		}
	}
}

// quantile and window return the running candidate's operating point.
func (s *skill) quantile() float64     { return s.cands[s.pick].q }
func (s *skill) window() time.Duration { return s.cands[s.pick].win }

// serving returns the replicas serving now and those paid for given the
// past decisions (the tier's real counts until a shadow has a history).
func (s *skill) serving(past []int, ready, total int) (serving, paid int) {
	if len(past) < s.serve {
		return ready, total
	}
	return slices.Min(past), past[len(past)-1]
}

func (s *skill) push(past []int, d int) []int {
	if len(past) == s.serve {
		copy(past, past[1:])
		past[len(past)-1] = d
		return past
	}
	return append(past, d)
}

func (sc *shadowScore) add(alpha, load, capacity float64, serving, paid int) {
	short := load - float64(serving)*capacity
	miss := 0.0
	if short > 0 {
		miss = 1
	}
	sc.under += alpha * (miss - sc.under)
	sc.unserved += alpha * (math.Max(0, short) - sc.unserved)
	sc.cost += alpha * (float64(paid) - sc.cost)
	sc.missed = miss == 1
}

// skillMargin is the relative improvement a costlier candidate needs to
// replace the running one: skillSwitch, widened like a confidence bound
// while the evidence behind the comparison is thin. The bound is the
// standard error of the log of a ratio of two counts, b =
// skillEvidence·√v, so the candidate's ratio must lie below the running
// one's times exp(−b), a margin of 1 − exp(−b) that stays below 1 (taken
// as b itself, it reached 1 when one side held no misses, and no ratio
// could clear it; internal/scaleeval/EXPERIMENTS.md, the nineteenth
// round). The counts are days with a miss, n1 of the running point and n2
// of the candidate (not runs of missed ticks: a day's runs share its
// load's shape, and after one day shop-s23's database took p98/15m, rated
// 30 % better on 4.9 runs against 9.8, and lost; the sixteenth and
// twenty-fourth rounds there), and they are paired: the shadows run on
// the same ticks, and a day one misses the other mostly misses too.
// With b1 of the running point's
// days on which the candidate did not miss and b2 the other way (the
// discordant days, skill.alone), the variance of the log of a ratio of
// two correlated Poisson counts is (b1 + b2)/(n1·n2) (delta method: the
// shared days add the same to both counts and cancel), taken with a +1
// per count as v = (b1 + b2 + 2)/((n1 + 1)(n2 + 1)). With no day shared
// (b1 = n1, b2 = n2) that is the unpaired 1/(n1+1) + 1/(n2+1); sharing
// only narrows it, and a day or two on either side leaves it wide
// however concordant (two shared days: 0.38). It applies on a tier whose
// lead window is longer than skillMemoryWindow, the tiers whose memory
// skillMemoryFor stretches: there (the 10-minute database) a costlier
// point taken on thin evidence loses to HPA (the thirteenth and fourteenth
// rounds there). On a 3-minute tier it applies to a switch to a longer
// scale-down window (needsMargin): a window's worth is the re-rises after
// a fall inside it, which share a day's load shape too. There NASA's and
// ClarkNet's first day rates the 15-minute points two to three times
// better than their 3-minute twins, which clears the margin at once, and
// the simulated shop's first day rates them at most 13 % better, which
// does not: taken on that one day, the long window lost to HPA on the
// shop's fronts (internal/scaleeval/EXPERIMENTS.md, the twenty-fifth,
// twenty-eighth and thirty-fifth rounds). On a 3-minute tier it applies
// too to any switch away from the start point (needsMargin, the
// thirty-seventh round). Any other costlier
// switch on a 3-minute tier, and a cheaper one or one to a shorter window
// on any tier, needs only skillSwitch.
func skillMargin(n1, n2, b1, b2 float64) float64 {
	v := (b1 + b2 + 2) / ((n1 + 1) * (n2 + 1))
	return math.Max(skillSwitch, -math.Expm1(-skillEvidence*math.Sqrt(v)))
}

// step scores every shadow on the tick's load, advances them with their
// decisions for this tick (wantFor gives the policy's wanted count at a
// quantile for a shadow paying for paid replicas, the count an outage
// hold keeps) and picks the candidate to run.
func (s *skill) step(t time.Time, load float64, ready, total int, capacity float64, wantFor func(q float64, paid int) int) {
	s.ticks++
	if s.ticks == 1 {
		s.load = load
	} else {
		s.load += s.alpha * (load - s.load)
	}
	for i := range s.cands {
		c := &s.cands[i]
		serving, paid := s.serving(c.past, ready, total)
		c.score.add(s.alpha, load, capacity, serving, paid)
		keep := c.wants[:0]
		for _, w := range c.wants {
			if t.Sub(w.t) < c.win {
				keep = append(keep, w)
			}
		}
		c.wants = append(keep, wantAt{t, wantFor(c.q, paid)})
		d := 0
		for _, w := range c.wants {
			d = max(d, w.want)
		}
		c.past = s.push(c.past, d)
	}
	s.pair()
	for i := range s.hpas {
		h := &s.hpas[i]
		serving, paid := s.serving(h.past, ready, total)
		h.score.add(s.alpha, load, capacity, serving, paid)
		util := math.NaN()
		if serving > 0 {
			util = load / (float64(serving) * capacity)
		}
		h.past = s.push(h.past, h.a.Decide(t, paid, serving, util))
	}
	if s.won != nil && s.warm > 0 && s.ticks%s.warm == 0 {
		s.endDay()
	}
	if s.ticks < s.warm || len(s.hpas) < 2 {
		return
	}
	s.choose()
}

// choose picks the candidate to run from the shadows' rates.
func (s *skill) choose() {
	// A candidate costlier than the costliest HPA shadow cannot be placed
	// on the curve (beside HPA's end point it would look better than HPA
	// is at that cost), so it is not chosen.
	curve := s.curve()
	top := curve[len(curve)-1].cost
	best, bestR := s.pick, s.ratioOn(s.cands[s.pick].score, curve)
	if s.cands[s.pick].score.cost > top {
		bestR = math.Inf(1)
	}
	cur := bestR
	for i, c := range s.cands {
		if c.score.cost > top {
			continue
		}
		if r := s.ratioOn(c.score, curve); r < bestR {
			best, bestR = i, r
		}
	}
	m := skillSwitch
	if p := s.pick; s.needsMargin(best) && !s.wonBy(best, p) {
		m = skillMargin(s.days[p], s.days[best], s.alone[p][best], s.alone[best][p])
	}
	if best != s.pick && bestR < cur*(1-m) {
		s.pick = best
	}
}

// endDay closes a whole day on an evidence tier: every candidate is rated
// on the day's own rates against the HPA shadows' rates of the same day,
// and each pair's days won (skill.won) are counted. The rates are
// exponentially weighted, so the part of the rates now that the day added
// is the rates now less the last day's end decayed over the day (by d),
// exactly, and the day's own rates are that part over the day's weight in
// the rates, 1 − d: the day's own weighted mean, at the scale choose reads
// the rates at. skillEpsUnder and skillEpsUnserved are set for that scale.
// Against the undivided part (1 − d is about 0.05 on the 10-minute tier)
// they weighed some twenty times as much and pulled every day's ratios
// toward 1, the more so the rarer HPA's misses of a figure, which turned
// days' comparisons over (TestSkillDaysRatedAtTheRatesScale;
// internal/scaleeval/EXPERIMENTS.md, the fifty-second round). The warm-up
// day only sets the first day's end: its ratings rest on a young
// calibration.
func (s *skill) endDay() {
	n, h := len(s.cands), len(s.hpas)
	d := math.Pow(1-s.alpha, float64(s.warm))
	w := 1 - d // the day's weight in the rates now
	for i := range s.won {
		for j := range s.won[i] {
			s.won[i][j] *= d
		}
	}
	first := len(s.dayEnd) != n+h
	if first {
		s.dayEnd, s.dayOwn = make([]shadowScore, n+h), make([]shadowScore, n+h)
		s.dayRate = make([]float64, n)
	}
	for i := range s.dayEnd {
		var now shadowScore
		if i < n {
			now = s.cands[i].score
		} else {
			now = s.hpas[i-n].score
		}
		p := s.dayEnd[i]
		s.dayOwn[i] = shadowScore{under: (now.under - d*p.under) / w, unserved: (now.unserved - d*p.unserved) / w, cost: (now.cost - d*p.cost) / w}
		s.dayEnd[i] = now
	}
	if first || h < 2 {
		return
	}
	r, curve := s.dayRate, sortByCost(append(s.pts[:0], s.dayOwn[n:]...))
	for i := range r {
		r[i] = s.ratioOn(s.dayOwn[i], curve)
	}
	for i := range r {
		for j := range r {
			if r[i] < r[j] {
				s.won[i][j]++
			}
		}
	}
}

// wonBy reports whether candidate i has done better than j on more of the
// paired whole days than chance explains: the log of the ratio of the
// days i won to the days j won exceeds skillEvidence standard errors of
// it, each count taken with a +1 as in skillMargin. It is the paired
// days' evidence where skillMargin has none to read: on a load whose
// misses are its own (a random job's onset, which no operating point
// meets), every candidate misses on every day, the days with a miss are
// all shared, and skillMargin stays at its floor for the days counted
// (1 − exp(−√2/(n+1)), 0.14 after ten days) while which point missed
// less, day after day, is the evidence (the batch family's databases,
// internal/scaleeval/EXPERIMENTS.md, the forty-first round). A switch
// on it still needs skillSwitch.
func (s *skill) wonBy(i, j int) bool {
	if s.won == nil {
		return false
	}
	w, l := s.won[i][j]+1, s.won[j][i]+1
	return math.Log(w/l) > skillEvidence*math.Sqrt(1/w+1/l)
}

// needsMargin reports whether a switch from the running candidate to
// candidate i needs skillMargin rather than skillSwitch: on an evidence
// tier a switch to a costlier candidate; on any other tier a switch to a
// longer scale-down window, and any switch away from the start point.
//
// The start point is left on the paired days' evidence on every tier (on
// an evidence tier the start is the cheapest candidate, so every switch
// away from it is a costlier one). The first day's ratings are those of a
// policy whose calibration is still young: on a day with a surge its
// ratios for the surge are pooled ones, every candidate's count sits at
// the surge's edge, and which of them misses a few more ticks is chance.
// A decider rebuilt from its lookback replays such a first day too, on a
// different day of the same load: under skillSwitch alone its selector
// left p95/3m for p98/3m on four such ticks (rated 1.241 against 1.019),
// while the decider that never stopped, whose first day had no such
// ticks, kept p95/3m (internal/stagetest's TestDeciderLookbackRebuild;
// the thirty-seventh round in internal/scaleeval/EXPERIMENTS.md).
func (s *skill) needsMargin(i int) bool {
	if s.evidence {
		return s.cands[i].score.cost > s.cands[s.pick].score.cost
	}
	return s.pick == s.start || s.cands[i].win > s.cands[s.pick].win
}

// curve returns the HPA shadows' scores sorted by cost, in s.pts, so that
// drawing it allocates nothing once the scratch has grown.
func (s *skill) curve() []shadowScore {
	s.pts = s.pts[:0]
	for _, h := range s.hpas {
		s.pts = append(s.pts, h.score)
	}
	return sortByCost(s.pts)
}

// sortByCost sorts pts by cost in place and returns it.
func sortByCost(pts []shadowScore) []shadowScore {
	slices.SortFunc(pts, func(a, b shadowScore) int {
		switch {
		case a.cost < b.cost:
			return -1
		case a.cost > b.cost:
			return 1
		}
		return 0
	})
	return pts
}

// ratioOn places a shadow's score on pts, HPA shadows' scores sorted by
// cost (curve or sortByCost), at its cost and returns the worse of its two
// ratios to HPA there: choose and endDay place every candidate on one
// curve.
func (s *skill) ratioOn(sc shadowScore, pts []shadowScore) float64 {
	var u, us float64
	switch {
	case sc.cost <= pts[0].cost:
		u, us = pts[0].under, pts[0].unserved
	case sc.cost >= pts[len(pts)-1].cost:
		u, us = pts[len(pts)-1].under, pts[len(pts)-1].unserved
	default:
		for i := 1; i < len(pts); i++ {
			a, b := pts[i-1], pts[i]
			if sc.cost <= b.cost {
				f := 0.0
				if b.cost > a.cost {
					f = (sc.cost - a.cost) / (b.cost - a.cost)
				}
				u, us = a.under+f*(b.under-a.under), a.unserved+f*(b.unserved-a.unserved)
				break
			}
		}
	}
	eu, es := skillEpsUnder, skillEpsUnserved*s.load
	return math.Max((sc.under+eu)/(u+eu), (sc.unserved+es)/(us+es))
}
