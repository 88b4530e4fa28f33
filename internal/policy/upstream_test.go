package policy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// lagApp is a web tier (1-minute lead) and a database behind it
// (10-minute lead), capacity 10 at a 100 % target, the shipped guards,
// with or without UpstreamSurges.
func lagApp(surges bool) AppConfig {
	c := DefaultAppConfig()
	c.Tiers = []TierConfig{c.Tiers[0], c.Tiers[2]}
	c.Tiers[1].Upstream = "web"
	for i := range c.Tiers {
		c.Tiers[i].Capacity, c.Tiers[i].Target = 10, 1
	}
	c.MinCalibration = 30
	c.UpstreamSurges = surges
	return c
}

// lagLoads returns a web load on noise around 100 that ramps by 20 a
// minute from minute 200 to 230, and a database load of half the web's
// three minutes earlier (a queue behind the front).
func lagLoads(n int, seed uint64) (web, db []float64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	web, db = normalLoad(rng, n, 100, 2), make([]float64, n)
	for i := range web {
		if i >= 200 {
			web[i] += 20 * float64(min(i, 230)-199)
		}
	}
	for i := range db {
		db[i] = 0.5 * web[max(0, i-3)]
	}
	return web, db
}

// lagLoop feeds both tiers minute by minute, each tier's decision ready
// at once, and returns each tier's decisions.
func lagLoop(a *App, web, db []float64) (dw, dd []Decision) {
	nw, nd := 10, 5
	for i := range web {
		ds := a.Decide(at(i), map[string]TierInput{
			"web": {Load: web[i], Ready: nw},
			"db":  {Load: db[i], Ready: nd},
		})
		dw, dd = append(dw, ds[0]), append(dd, ds[1])
		nw, nd = ds[0].To, ds[1].To
	}
	return dw, dd
}

// TestUpstreamSurgeReachesTheTierBehind: the web ramp starts at minute
// 200 and the database's load follows three minutes later. With
// UpstreamSurges the database carries on the web's ramp (halved: the
// learned ratio) over its 10-minute lead as soon as the web's ramp guard
// sees it, before its own load has moved; without it the database waits
// for its own two rises.
func TestUpstreamSurgeReachesTheTierBehind(t *testing.T) {
	web, db := lagLoads(260, 1)
	_, on := lagLoop(mustApp(t, lagApp(true)), web, db)
	_, off := lagLoop(mustApp(t, lagApp(false)), web, db)
	// Minute 201 is the web's second rise: its ramp guard fires there.
	d := on[201]
	if d.Inputs["upstream_ramp"] != 1 || !strings.Contains(d.Reason, "web tier's ramp") {
		t.Fatalf("minute 201: the database does not carry the web's ramp: %s %v", d.Reason, d.Inputs)
	}
	// The web ramps by 20 a minute, less a noise allowance of three
	// typical one-minute changes (about 7): the database's share is half
	// of what is left, carried on for RampLead past the tick on its own
	// load of about 50.
	r := d.Inputs["ramp_per_tick"]
	if r < 3 || r > 10 {
		t.Fatalf("propagated ramp %v a minute, want about half the web's 20 less its noise allowance", r)
	}
	ticks := float64((time.Minute + lagApp(true).RampLead) / time.Minute)
	if want := int(math.Ceil((db[201] + ticks*r) / 10)); d.To < want {
		t.Fatalf("the database wants %d at minute 201, below %d", d.To, want)
	}
	if off[201].Inputs["ramp_per_tick"] != 0 || off[201].To >= d.To {
		t.Fatalf("without UpstreamSurges the database already scaled: %+v", off[201])
	}
	// Its own load has not risen yet; without the web's signal it moves
	// only after two rises of its own, at minute 204.
	first := func(ds []Decision, n int) int {
		for i := 190; i < len(ds); i++ {
			if ds[i].To >= n {
				return i
			}
		}
		return -1
	}
	n := on[201].To
	if a, b := first(on, n), first(off, n); a != 201 || b <= 203 {
		t.Fatalf("the database reached %d replicas at minute %d with the web's ramp, %d without", n, a, b)
	}
	// Flat noise propagates nothing.
	if on[150].Inputs["upstream_ramp"] != 0 || on[150].Inputs["ramp_per_tick"] != 0 {
		t.Fatalf("minute 150: a ramp on flat noise: %v", on[150].Inputs)
	}
}

// TestUpstreamSurgeIsCausal scrambles both tiers' loads after minute k
// and checks that no decision of either tier up to k changes.
func TestUpstreamSurgeIsCausal(t *testing.T) {
	web, db := lagLoads(300, 2)
	bw, bd := lagLoop(mustApp(t, lagApp(true)), web, db)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, k := range []int{150, 201, 215} {
		sw, sd := append([]float64(nil), web...), append([]float64(nil), db...)
		for i := k + 1; i < len(sw); i++ {
			sw[i], sd[i] = 600*rng.Float64(), 300*rng.Float64()
		}
		gw, gd := lagLoop(mustApp(t, lagApp(true)), sw, sd)
		tos := func(ds []Decision) []int {
			var out []int
			for _, d := range ds {
				out = append(out, d.To)
			}
			return out
		}
		if !reflect.DeepEqual(tos(gw[:k+1]), tos(bw[:k+1])) || !reflect.DeepEqual(tos(gd[:k+1]), tos(bd[:k+1])) {
			t.Fatalf("a future scrambled after minute %d changed earlier decisions", k)
		}
		if reflect.DeepEqual(tos(gd[k+1:]), tos(bd[k+1:])) {
			t.Fatalf("scrambling after minute %d changed nothing later: the test scrambles nothing", k)
		}
	}
}

// TestRampLeadCapsTheCarry: a tier with a 10-minute boot carries a ramp
// on for RampLead past the tick, not over its whole 11-minute window.
func TestRampLeadCapsTheCarry(t *testing.T) {
	web, db := lagLoads(260, 3)
	for _, lead := range []time.Duration{0, 3 * time.Minute} {
		c := lagApp(false)
		c.RampLead = lead
		_, dd := lagLoop(mustApp(t, c), web, db)
		ticks := 11.0
		if lead > 0 {
			ticks = 4
		}
		for _, i := range []int{205, 208} {
			in := dd[i].Inputs
			r := in["ramp_per_tick"]
			if r <= 0 {
				t.Fatalf("RampLead %s, minute %d: no ramp seen: %v", lead, i, in)
			}
			if want := math.Ceil((db[i]+ticks*r)/10 - 1e-9); in["floor"] != want {
				t.Fatalf("RampLead %s, minute %d: floor %v, want %v (load %.1f + %g × %.2f)", lead, i, in["floor"], want, db[i], ticks, r)
			}
		}
		// A reason that tells of the ramp names the window the rise is
		// carried over.
		told := 0
		for i, d := range dd {
			_, ramp, ok := strings.Cut(d.Reason, "rising by")
			if !ok {
				continue
			}
			told++
			ramp, _, _ = strings.Cut(ramp, ";")
			if !strings.Contains(ramp, fmt.Sprintf("over the next %g min", ticks)) {
				t.Fatalf("RampLead %s, minute %d: the ramp's text does not name the %g-minute window the rise is carried over: %s", lead, i, ticks, d.Reason)
			}
		}
		if told == 0 {
			t.Fatalf("RampLead %s: no decision tells of the ramp: the reason went unchecked", lead)
		}
	}
}
