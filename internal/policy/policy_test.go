package policy

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/forecast"
)

var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

// webOnly returns a one-tier app: capacity 10 per replica at a 100 % target,
// p90, lead 3 min, the given stabilisation.
func webOnly(stab time.Duration) AppConfig {
	c := DefaultAppConfig()
	w := c.Tiers[0]
	w.Capacity, w.Target, w.LeadTime, w.ScaleDownStabilization = 10, 1, 3*time.Minute, stab
	c.Tiers = []TierConfig{w}
	c.MinCalibration = 30
	return c
}

func mustApp(t testing.TB, c AppConfig) *App {
	t.Helper()
	a, err := NewApp(c)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// loop feeds load[i] at minute i to the web tier, applying each decision
// instantly (ready = last decision), and returns the decisions.
func loop(a *App, load []float64, fc func(i int) *Forecast, inc func(i int) []string) []Decision {
	var out []Decision
	n := 1
	for i, l := range load {
		in := TierInput{Load: l, Ready: n}
		if fc != nil {
			in.Forecast = fc(i)
		}
		if inc != nil {
			in.Incidents = inc(i)
		}
		d := a.Decide(at(i), map[string]TierInput{"web": in})[0]
		out = append(out, d)
		n = d.To
	}
	return out
}

// normalLoad is n minutes of load drawn around mean with standard
// deviation sd, one draw per minute in order.
func normalLoad(rng *rand.Rand, n int, mean, sd float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = mean + sd*rng.NormFloat64()
	}
	return x
}

// everyDay applies f to the minutes from to to (exclusive) of every day of
// a load of one tick a minute.
func everyDay(load []float64, from, to int, f func(float64) float64) {
	for i := range load {
		if m := i % 1440; m >= from && m < to {
			load[i] = f(load[i])
		}
	}
}

func flat(n int, v float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = v
	}
	return x
}

// flatForecast forecasts v for every 5-minute bucket of the next hour.
func flatForecast(origin time.Time, v func(time.Time) float64) *Forecast {
	f := &Forecast{Origin: origin, Step: 5 * time.Minute}
	for k := 0; k < 12; k++ {
		pt := origin.Add(time.Duration(k) * 5 * time.Minute)
		f.Points = append(f.Points, forecast.Point{Time: pt, Yhat: v(pt)})
	}
	return f
}

func TestScenarios(t *testing.T) {
	type check func(t *testing.T, ds []Decision)
	cases := []struct {
		name string
		stab time.Duration
		// noShort leaves the tier its configured window only (no
		// ShortStabilization): on a 3-minute tier the skill selector
		// starts at the short one.
		noShort bool
		load    []float64
		fc      func(i int) *Forecast
		inc     func(i int) []string
		check   check
	}{
		{
			name: "spike scales up at once on the reactive floor",
			load: append(flat(60, 20), 95),
			check: func(t *testing.T, ds []Decision) {
				d := ds[60]
				if d.Action != ActionUp || d.To < 10 {
					t.Fatalf("spike: %+v", d)
				}
				if !strings.Contains(d.Reason, "current load 95") {
					t.Fatalf("reason %q does not cite the current load", d.Reason)
				}
			},
		},
		{
			name: "forecast ramp provisions before the load arrives",
			load: flat(120, 20),
			fc: func(i int) *Forecast {
				return flatForecast(at(i).Truncate(5*time.Minute), func(pt time.Time) float64 {
					if pt.Sub(at(100)) >= 0 {
						return 80
					}
					return 20
				})
			},
			check: func(t *testing.T, ds []Decision) {
				// The 100-minute bucket enters the 4-minute window at minute 96.
				if ds[95].To >= 6 {
					t.Fatalf("scaled before the surge was in the lead window: %+v", ds[95])
				}
				if ds[96].Action != ActionUp || ds[96].To < 6 {
					t.Fatalf("no scale-up ahead of the forecast surge: %+v", ds[96])
				}
				if !strings.Contains(ds[96].Reason, "forecast") {
					t.Fatalf("reason %q does not cite the forecast", ds[96].Reason)
				}
			},
		},
		{
			name:    "dip scales down only after the stabilisation window",
			stab:    10 * time.Minute,
			noShort: true,
			load:    append(flat(60, 80), flat(40, 20)...),
			check: func(t *testing.T, ds []Decision) {
				high := ds[59].To
				for i := 60; i < 68; i++ {
					if ds[i].To < high {
						t.Fatalf("minute %d scaled down %d→%d inside the window", i, high, ds[i].To)
					}
				}
				if ds[62].State != "pending-down" {
					t.Fatalf("state %q, want pending-down", ds[62].State)
				}
				if ds[99].To >= high {
					t.Fatalf("never scaled down: %d", ds[99].To)
				}
			},
		},
		{
			name: "flapping input does not flap the replicas",
			stab: 10 * time.Minute,
			load: func() []float64 {
				x := make([]float64, 200)
				for i := range x {
					x[i] = 30
					if i%2 == 1 {
						x[i] = 60
					}
				}
				return x
			}(),
			check: func(t *testing.T, ds []Decision) {
				changes := 0
				for i := 100; i < len(ds); i++ {
					if ds[i].To != ds[i-1].To {
						changes++
					}
				}
				if changes > 2 {
					t.Fatalf("%d changes in 100 minutes of alternating load", changes)
				}
				if ds[199].To < 6 {
					t.Fatalf("provisioned %d for peaks of 60 at capacity 10", ds[199].To)
				}
			},
		},
		{
			name: "performance incident is flagged, not scaled on",
			load: flat(60, 20),
			inc: func(i int) []string {
				if i >= 50 {
					return []string{IncidentPerformance}
				}
				return nil
			},
			check: func(t *testing.T, ds []Decision) {
				d := ds[55]
				if d.Action == ActionUp {
					t.Fatalf("scaled up on a performance incident: %+v", d)
				}
				if !reflect.DeepEqual(d.Flags, []string{"performance-incident"}) {
					t.Fatalf("flags %v", d.Flags)
				}
				if !strings.Contains(d.Reason, "performance incident") {
					t.Fatalf("reason %q", d.Reason)
				}
			},
		},
		{
			name: "a scale-up for demand during a performance incident says so",
			load: flat(120, 20),
			fc: func(i int) *Forecast {
				return flatForecast(at(i).Truncate(5*time.Minute), func(pt time.Time) float64 {
					if pt.Sub(at(100)) >= 0 {
						return 80
					}
					return 20
				})
			},
			inc: func(i int) []string {
				if i >= 90 {
					return []string{IncidentPerformance}
				}
				return nil
			},
			check: func(t *testing.T, ds []Decision) {
				var up *Decision
				for i := 90; i < 120 && up == nil; i++ {
					if ds[i].Action == ActionUp {
						up = &ds[i]
					}
				}
				if up == nil {
					t.Fatal("no scale-up for the forecast surge")
				}
				if strings.Contains(up.Reason, "not scaling up") || !strings.Contains(up.Reason, "none for the incident") {
					t.Fatalf("reason %q contradicts or hides the action", up.Reason)
				}
			},
		},
		{
			name: "load incident provisions for the recent peak",
			load: append(flat(56, 20), 20, 70, 20, 20),
			inc: func(i int) []string {
				if i >= 58 {
					return []string{IncidentLoad}
				}
				return nil
			},
			check: func(t *testing.T, ds []Decision) {
				if ds[58].To < 7 {
					t.Fatalf("load incident did not provision for the peak 70: %+v", ds[58])
				}
				if !strings.Contains(strings.Join(ds[58].Flags, ","), "load-incident") {
					t.Fatalf("flags %v", ds[58].Flags)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := webOnly(tc.stab)
			if tc.noShort {
				c.ShortStabilization = 0
			}
			a := mustApp(t, c)
			tc.check(t, loop(a, tc.load, tc.fc, tc.inc))
		})
	}
}

func TestCooldownAndStep(t *testing.T) {
	c := webOnly(0)
	c.Tiers[0].CooldownUp = 5 * time.Minute
	c.Tiers[0].MaxStep = 2
	a := mustApp(t, c)
	load := append(flat(40, 10), flat(20, 100)...)
	ds := loop(a, load, nil, nil)
	if ds[40].Action != ActionUp || ds[40].To-ds[40].From != 2 {
		t.Fatalf("first step: %+v", ds[40])
	}
	if !strings.Contains(ds[40].Reason, "step capped") {
		t.Fatalf("reason %q", ds[40].Reason)
	}
	if ds[41].Action != ActionHold || ds[41].State != "cooldown-up" {
		t.Fatalf("inside cool-down: %+v", ds[41])
	}
	if ds[45].Action != ActionUp {
		t.Fatalf("after cool-down: %+v", ds[45])
	}
}

func TestBudgetCap(t *testing.T) {
	c := DefaultAppConfig()
	c.Tiers = c.Tiers[:2] // web (priority 3), cache (priority 2)
	for i := range c.Tiers {
		c.Tiers[i].Capacity, c.Tiers[i].Target = 10, 1
		c.Tiers[i].CostPerReplicaHour = 1
	}
	c.BudgetPerHour = 12
	a := mustApp(t, c)
	var ds []Decision
	for i := 0; i < 5; i++ {
		ds = a.Decide(at(i), map[string]TierInput{
			"web":   {Load: 80, Ready: 1},
			"cache": {Load: 80, Ready: 1},
		})
	}
	if ds[0].To+ds[1].To > 12 {
		t.Fatalf("over budget: web %d + cache %d", ds[0].To, ds[1].To)
	}
	if ds[0].To < 8 {
		t.Fatalf("the higher-priority web tier was trimmed: %+v", ds[0])
	}
	if !strings.Contains(strings.Join(ds[1].Flags, ","), "budget-capped") || !strings.Contains(ds[1].Reason, "budget cap") {
		t.Fatalf("cache not flagged: %+v", ds[1])
	}
}

func TestMultiTierLeadTimes(t *testing.T) {
	c := DefaultAppConfig()
	c.Tiers = []TierConfig{c.Tiers[0], c.Tiers[2]}
	c.Tiers[1].Upstream = "web" // db driven by web
	for i := range c.Tiers {
		c.Tiers[i].Capacity, c.Tiers[i].Target = 10, 1
	}
	a := mustApp(t, c)
	// db load is half the web load; a web surge to 200 is forecast at minute 100.
	surge := func(pt time.Time) float64 {
		if !pt.Before(at(100)) {
			return 200
		}
		return 40
	}
	var web, db []Decision
	nw, nd := 4, 2
	for i := 0; i < 96; i++ {
		fc := flatForecast(at(i).Truncate(5*time.Minute), surge)
		ds := a.Decide(at(i), map[string]TierInput{
			"web": {Load: 40, Ready: nw, Forecast: fc},
			"db":  {Load: 20, Ready: nd},
		})
		web, db = append(web, ds[0]), append(db, ds[1])
		nw, nd = ds[0].To, ds[1].To
	}
	// The db window (tick + 10-minute lead) reaches the surge bucket at
	// minute 89; the web window (tick + 1 minute) only at minute 98.
	first := func(ds []Decision, n int) int {
		for i, d := range ds {
			if d.To >= n {
				return i
			}
		}
		return -1
	}
	if i := first(db, 10); i != 89 {
		t.Fatalf("db reached 10 replicas at minute %d, want 89: %+v", i, db[89])
	}
	if i := first(web, 10); i != -1 {
		t.Fatalf("web scaled for the surge too early, at minute %d: %+v", i, web[i])
	}
	if r := db[90].Inputs["forecast_max"]; r < 90 || r > 110 {
		t.Fatalf("propagated db forecast %v, want ≈ 200 × 0.5", r)
	}
}

func TestLearnedCapacity(t *testing.T) {
	c := webOnly(0)
	c.Tiers[0].Capacity = 0
	a := mustApp(t, c)
	d := a.Decide(at(0), map[string]TierInput{"web": {Load: 40, Ready: 4, Values: map[string]float64{"cpu": 0.5}}})[0]
	if d.Action != ActionHold || !strings.Contains(strings.Join(d.Flags, ","), "capacity-unknown") {
		t.Fatalf("first tick: %+v", d)
	}
	for i := 1; i < 10; i++ {
		d = a.Decide(at(i), map[string]TierInput{"web": {Load: 40, Ready: 4, Values: map[string]float64{"cpu": 50}}})[0]
	}
	if got := d.Inputs["capacity"]; got < 19.9 || got > 20.1 {
		t.Fatalf("learned capacity %v, want 20 (40 rps on 4 replicas at 50 %%)", got)
	}
}

func TestMissingTierAndOldTick(t *testing.T) {
	a := mustApp(t, DefaultAppConfig())
	ds := a.Decide(at(5), map[string]TierInput{"web": {Load: 1, Ready: 2}})
	if len(ds) != 3 || ds[1].Action != ActionHold || !strings.Contains(ds[1].Reason, "no data") {
		t.Fatalf("missing tier: %+v", ds)
	}
	ds = a.Decide(at(4), map[string]TierInput{"web": {Load: 1, Ready: 2}})
	if ds[0].Action != ActionHold || !strings.Contains(ds[0].Reason, "older") {
		t.Fatalf("old tick: %+v", ds[0])
	}
}

func TestValidate(t *testing.T) {
	bad := []func(c *AppConfig){
		func(c *AppConfig) { c.Tiers = nil },
		func(c *AppConfig) { c.Tiers[0].Target = 0 },
		func(c *AppConfig) { c.Tiers[0].Quantile = 1 },
		func(c *AppConfig) { c.Tiers[1].Name = "web" },
		func(c *AppConfig) { c.Tiers[1].Upstream = "nope" },
		func(c *AppConfig) { c.Tiers[0].Upstream = "db" }, // web→db→cache→web loop
		func(c *AppConfig) { c.Tiers[0].Min, c.Tiers[0].Max = 5, 2 },
		func(c *AppConfig) { c.Tick = 0 },
		func(c *AppConfig) { c.Tick, c.LevelWindow = 2*time.Hour, 4*time.Hour }, // longer than MaxTick, the executor's allowance
		func(c *AppConfig) { c.ForecastWeight = 2 },
		func(c *AppConfig) { c.SeasonalPeaks = false }, // the hour-phase guard left on without its memory
		func(c *AppConfig) { c.JumpLead = -time.Minute },
		func(c *AppConfig) { c.RampLead = -time.Minute },
	}
	if err := DefaultAppConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	for i, f := range bad {
		c := DefaultAppConfig()
		c.Tiers = append([]TierConfig(nil), c.Tiers...)
		f(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("case %d: invalid config accepted", i)
		}
		if _, err := NewApp(c); err == nil {
			t.Errorf("case %d: NewApp accepted an invalid config", i)
		}
	}
}

// noisy is a deterministic daily-ish load with bursts.
func noisy(n int) []float64 {
	x := make([]float64, n)
	s := uint64(7)
	for i := range x {
		s = s*6364136223846793005 + 1442695040888963407
		u := float64(s>>11) / float64(1<<53)
		x[i] = 40 + 30*float64((i/90)%3) + 25*u
		if i%97 < 3 {
			x[i] *= 2
		}
	}
	return x
}

func TestCausalAndDeterministic(t *testing.T) {
	load := noisy(600)
	fc := func(i int) *Forecast {
		return flatForecast(at(i).Truncate(5*time.Minute), func(time.Time) float64 { return 60 })
	}
	full := loop(mustApp(t, webOnly(10*time.Minute)), load, fc, nil)
	again := loop(mustApp(t, webOnly(10*time.Minute)), load, fc, nil)
	if !reflect.DeepEqual(full, again) {
		t.Fatal("same input, different decisions")
	}
	part := loop(mustApp(t, webOnly(10*time.Minute)), load[:350], fc, nil)
	if !reflect.DeepEqual(part, full[:350]) {
		t.Fatal("truncating the input changed earlier decisions")
	}
}

func TestReasonNamesTheNumbers(t *testing.T) {
	a := mustApp(t, webOnly(0))
	ds := loop(a, append(flat(60, 20), flat(10, 60)...), nil, nil)
	var up *Decision
	for i := range ds {
		if ds[i].Action == ActionUp {
			up = &ds[i]
			break
		}
	}
	if up == nil {
		t.Fatal("no scale-up")
	}
	want := "web " + itoa(up.From) + "→" + itoa(up.To) + ": "
	if !strings.HasPrefix(up.Reason, want) || !strings.Contains(up.Reason, "× 10.0 rps at 100 % target") {
		t.Fatalf("reason %q", up.Reason)
	}
	for _, k := range []string{"load", "base", "ratio_q", "demand_q", "capacity", "want"} {
		if _, ok := up.Inputs[k]; !ok {
			t.Errorf("input %q missing", k)
		}
	}
}

func TestCalibrationQuantile(t *testing.T) {
	w := newCalibration(4)
	for i, v := range []float64{5, 1, 4, 2, 3} { // 5 is evicted
		w.add(v, i%2)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) <= 3e-4*b }
	if w.len() != 4 || !near(w.quantile(0), 1) || !near(w.quantile(1), 4) || !near(w.quantile(0.5), 2.5) {
		t.Fatalf("bins %v, q0 %v q.5 %v q1 %v", w.perBin, w.quantile(0), w.quantile(0.5), w.quantile(1))
	}
	// Bin 0 held 5 (evicted), 4 and 3; bin 1 holds 1 and 2.
	if w.binLen(0) != 2 || w.binLen(1) != 2 || !near(w.binQuantile(0, 1), 4) || !near(w.binQuantile(1, 0), 1) {
		t.Fatalf("bins %v", w.perBin)
	}
	if cap(w.codes) > 8 || cap(w.bins) > 8 {
		t.Fatalf("window of 4 holds capacity %d/%d", cap(w.codes), cap(w.bins))
	}
}

// TestPooledQuantileSelectsAcrossBins checks the pooled quantile, selected
// across the bins' sorted codes, against the quantile of all codes held
// sorted in one slice, over windows that evict and bins that empty out,
// with ties, both ends of the code range and every q on a fine grid.
func TestPooledQuantileSelectsAcrossBins(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 7, 300} {
		w := newCalibration(n)
		for step := range 4 * n {
			var r float64
			switch rng.IntN(6) {
			case 0:
				r = 1e-9 // code 0
			case 1:
				r = 1e9 // code 65535
			case 2:
				r = 2 // a tie with every other 2
			default:
				r = math.Exp(rng.NormFloat64())
			}
			w.add(r, rng.IntN(5)-2)
			var all []uint16
			for _, s := range w.perBin {
				all = append(all, s...)
			}
			slices.Sort(all)
			if w.len() != len(all) {
				t.Fatalf("n %d step %d: len %d, bins hold %d", n, step, w.len(), len(all))
			}
			for q := 0.0; q <= 1; q += 0.05 {
				if got, want := w.quantile(q), quantileOf(all, q); got != want {
					t.Fatalf("n %d step %d: q%.2f %v, want %v (codes %v)", n, step, q, got, want, all)
				}
			}
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	b.ReportAllocs()
	a := mustApp(b, webOnly(10*time.Minute))
	load := noisy(4096)
	fc := flatForecast(t0, func(time.Time) float64 { return 60 })
	for i := 0; i < b.N; i++ {
		a.Decide(at(i), map[string]TierInput{"web": {Load: load[i%len(load)], Ready: 5, Forecast: fc}})
	}
}

func TestCapacityFitWithIdleBase(t *testing.T) {
	var f capacityFit
	for i := 0; i < 200; i++ {
		x := 20 + float64(i%10)*3 // load per replica 20..47
		f.add(x, 0.05+x/60)       // 5 % idle plus x / 60
	}
	if c, ok := f.capacity(); !ok || c < 59.5 || c > 60.5 {
		t.Fatalf("capacity %v %v, want 60", c, ok)
	}
	var flatFit capacityFit
	for i := 0; i < 10; i++ {
		flatFit.add(30, 0.5)
	}
	if c, ok := flatFit.capacity(); !ok || c != 60 {
		t.Fatalf("constant load: capacity %v %v, want 60 through the origin", c, ok)
	}
}

func TestPerformanceIncidentFreezesCapacity(t *testing.T) {
	c := webOnly(0)
	c.Tiers[0].Capacity = 0
	a := mustApp(t, c)
	var d Decision
	for i := 0; i < 60; i++ {
		cpu, inc := 0.5, []string(nil)
		if i >= 30 {
			// The tier turns slow: twice the cpu for the same load.
			cpu, inc = 0.9, []string{IncidentPerformance}
		}
		d = a.Decide(at(i), map[string]TierInput{"web": {Load: 40, Ready: 4, Values: map[string]float64{"cpu": cpu}, Incidents: inc}})[0]
	}
	if got := d.Inputs["capacity"]; got < 19.9 || got > 20.1 || d.Action == ActionUp {
		t.Fatalf("capacity %v action %s during a performance incident, want 20 and no scale-up", got, d.Action)
	}
}

func TestBadLoadHolds(t *testing.T) {
	a := mustApp(t, webOnly(0))
	for i, l := range []float64{math.NaN(), math.Inf(1), -3} {
		d := a.Decide(at(i), map[string]TierInput{"web": {Load: l, Ready: 3}})[0]
		if d.Action != ActionHold || d.To != 3 || !strings.Contains(strings.Join(d.Flags, ","), "bad-input") {
			t.Fatalf("load %v: %+v", l, d)
		}
	}
	d := a.Decide(at(5), map[string]TierInput{"web": {Load: 10, Ready: 3}})[0]
	if !strings.Contains(strings.Join(d.Flags, ","), "calibrating") {
		t.Fatalf("first good tick not flagged as calibrating: %+v", d.Flags)
	}
}

func TestOutageDoesNotThinTheTail(t *testing.T) {
	c := webOnly(0)
	a := mustApp(t, c)
	noise := noisy(1000)
	load := make([]float64, 1000)
	for i := range load {
		load[i] = noise[i] / 3 // about 15..40, bursty
		if i >= 300 && i < 900 {
			load[i] = 0 // a ten-hour outage
		}
	}
	fc := func(i int) *Forecast {
		return flatForecast(at(i).Truncate(5*time.Minute), func(time.Time) float64 { return 40 })
	}
	ds := loop(a, load, fc, nil)
	before, after := ds[299].Inputs["ratio_q"], ds[905].Inputs["ratio_q"]
	// Learning the outage's zero peaks would pull it down to about 1.0.
	if after < 0.97*before {
		t.Fatalf("peak ratio fell from %.2f before the outage to %.2f after it", before, after)
	}
}

func TestParseQuantile(t *testing.T) {
	for in, want := range map[string]float64{"p90": 0.9, "P99.5": 0.995, "95%": 0.95, " 0.8 ": 0.8} {
		if got, err := ParseQuantile(in); err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("ParseQuantile(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "p", "p100", "1", "0", "-0.5", "abc", "150%"} {
		if _, err := ParseQuantile(in); err == nil {
			t.Errorf("ParseQuantile(%q) accepted", in)
		}
	}
}
