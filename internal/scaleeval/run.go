package scaleeval

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/headroomhq/headroom/internal/sim"
)

// Setup fixes the simulation contract.
type Setup struct {
	// Capacity is the load one replica serves (C).
	Capacity float64
	// BootDelay is how long a started replica boots before it serves.
	BootDelay time.Duration
	// Warmup is the number of leading minutes simulated but not scored.
	Warmup int
	// MinReplicas and MaxReplicas bound every decision.
	MinReplicas, MaxReplicas int
}

// DefaultSetup returns the DESIGN.md contract for a trace: C = max/20, a
// 3-minute boot (decide at the end of t, serve from t+4), one day of warm-up,
// 1..200 replicas.
func DefaultSetup(demand []float64) Setup {
	peak := 0.0
	for _, d := range demand {
		peak = math.Max(peak, d)
	}
	return Setup{Capacity: peak / 20, BootDelay: 3 * time.Minute, Warmup: 1440, MinReplicas: 1, MaxReplicas: 200}
}

// Validate reports a setup that cannot run.
func (s Setup) Validate() error {
	var errs []error
	if !(s.Capacity > 0) || math.IsInf(s.Capacity, 0) {
		errs = append(errs, fmt.Errorf("capacity %v must be positive", s.Capacity))
	}
	if s.BootDelay < 0 {
		errs = append(errs, fmt.Errorf("boot delay %s is negative", s.BootDelay))
	}
	if s.Warmup < 0 {
		errs = append(errs, fmt.Errorf("warm-up %d is negative", s.Warmup))
	}
	if s.MinReplicas < 1 || s.MaxReplicas < s.MinReplicas {
		errs = append(errs, fmt.Errorf("replica bounds %d..%d are invalid", s.MinReplicas, s.MaxReplicas))
	}
	return errors.Join(errs...)
}

// Tick is what a controller sees at the end of one minute.
type Tick struct {
	// Minute is the row index.
	Minute int
	// Time is the row's timestamp.
	Time time.Time
	// Demand is the load observed during the minute.
	Demand float64
	// Ready and Booting are the replica counts during the minute.
	Ready, Booting int
}

// Controller names the total replicas wanted from the next minute.
type Controller interface {
	Decide(tk Tick) (int, error)
}

// Run is the outcome of one simulation.
type Run struct {
	// Desired holds the decision taken at the end of each minute, clamped
	// to the replica bounds.
	Desired []int
	// Ready and Booting hold the counts during each minute.
	Ready, Booting []int
}

// Simulate drives ctl over the trace through a simulated cluster. Rows are
// consecutive minutes; times only stamp them.
func Simulate(times []time.Time, demand []float64, s Setup, ctl Controller) (Run, error) {
	if len(times) != len(demand) {
		return Run{}, fmt.Errorf("simulate: %d times for %d values", len(times), len(demand))
	}
	if err := s.Validate(); err != nil {
		return Run{}, fmt.Errorf("simulate: %w", err)
	}
	n := len(demand)
	r := Run{Desired: make([]int, n), Ready: make([]int, n), Booting: make([]int, n)}
	if n == 0 {
		return r, nil
	}
	base := times[0]
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	cl := sim.NewCluster(sim.Config{BootDelay: s.BootDelay}, at(0), s.clamp(needed(demand[0], s.Capacity)))
	for i := range demand {
		ready, booting := cl.Advance(at(i))
		r.Ready[i], r.Booting[i] = ready, booting
		want, err := ctl.Decide(Tick{Minute: i, Time: times[i], Demand: demand[i], Ready: ready, Booting: booting})
		if err != nil {
			return Run{}, fmt.Errorf("simulate: minute %d (%s): %w", i, times[i].UTC().Format(time.RFC3339), err)
		}
		want = s.clamp(want)
		r.Desired[i] = want
		cl.SetDesired(at(i+1), want)
	}
	return r, nil
}

func (s Setup) clamp(n int) int { return max(s.MinReplicas, min(s.MaxReplicas, n)) }

// needed returns the fewest replicas of capacity c that serve d.
func needed(d, c float64) int {
	if d <= 0 {
		return 0
	}
	n := int(math.Ceil(d / c))
	if n > 0 && float64(n-1)*c >= d {
		n--
	}
	return n
}
