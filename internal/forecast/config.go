package forecast

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Config holds the knobs of a Series. The zero value is not valid; start from
// DefaultConfig.
type Config struct {
	// Step is the bucket width.
	Step time.Duration
	// Window is the number of buckets of history a refit uses: the models
	// are fitted on all but the last Holdout of them and then run through
	// those.
	Window int
	// Horizon is the number of steps a refit calibrates intervals for; a
	// Forecast asking for more steps triggers a refit for the longer horizon.
	Horizon int
	// RefitEvery is the number of buckets between refits; in between,
	// Forecast only advances the fitted models' state. Refit points are
	// fixed on the bucket clock (see Series).
	RefitEvery int
	// RefitOffset shifts the refit points by this many buckets (taken
	// modulo RefitEvery). Give each live series its own offset, for example
	// a hash of its name, so that thousands of series spread their refits
	// over the schedule instead of all refitting on the same bucket.
	RefitOffset int
	// Holdout is the number of most recent buckets held out at each refit to
	// score the models and calibrate the intervals; it is capped at a
	// quarter of the available history, and below two horizons' worth the
	// series falls back to one model with widened normal intervals.
	Holdout int
	// OutageRun is the minimum length, in buckets, of a run of exact zeros
	// that is treated as an outage (missing data) in a series where zeros are
	// otherwise rare.
	OutageRun int
	// Models restricts the candidate models to these names (see
	// ModelNames); empty means all. With one name the selector is bypassed,
	// though the holdout still calibrates the intervals.
	Models []string
}

// ModelNames returns the names of the models the ensemble chooses from:
// seasonal naive (one day), naive (last value), damped-trend Holt-Winters
// (ets), the daily-only and the daily+weekly decompositions (stl, mstl) and
// the Prophet-class regression (prophet).
func ModelNames() []string {
	return []string{"snaive", "naive", "ets", "stl", "mstl", "prophet"}
}

// Period lengths in buckets for the default 5-minute step.
const (
	defaultDay  = 288
	defaultWeek = 2016
)

// DefaultConfig returns the configuration of the live service and of the
// backtest: 5-minute buckets, 14 days of history, a 12-step horizon, a refit
// every hour and three days of holdout.
func DefaultConfig() Config {
	return Config{
		Step:       5 * time.Minute,
		Window:     14 * defaultDay,
		Horizon:    12,
		RefitEvery: 12,
		Holdout:    3 * defaultDay,
		OutageRun:  12,
	}
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Step <= 0:
		return fmt.Errorf("step %s must be positive", c.Step)
	case (24*time.Hour)%c.Step != 0:
		return fmt.Errorf("step %s must divide a day", c.Step)
	case c.Window < 2:
		return fmt.Errorf("window %d must hold at least 2 buckets", c.Window)
	case c.Horizon < 1:
		return fmt.Errorf("horizon %d must be at least 1", c.Horizon)
	case c.RefitEvery < 1:
		return fmt.Errorf("refit-every %d must be at least 1", c.RefitEvery)
	case c.Holdout < 0:
		return fmt.Errorf("holdout %d must not be negative", c.Holdout)
	case c.OutageRun < 2:
		return fmt.Errorf("outage-run %d must be at least 2", c.OutageRun)
	}
	for _, m := range c.Models {
		if !slices.Contains(ModelNames(), m) {
			return fmt.Errorf("unknown model %q (want one of %s)", m, strings.Join(ModelNames(), ", "))
		}
	}
	return nil
}

// day returns the number of buckets in a day.
func (c Config) day() int { return int((24 * time.Hour) / c.Step) }

// ErrNoData is returned by Forecast when the window holds no observed value.
var ErrNoData = errors.New("forecast: no observed bucket in the window")
