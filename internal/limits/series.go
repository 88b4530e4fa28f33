package limits

import (
	"fmt"
	"sync"
)

// Key is one series: an app's tier.
type Key struct {
	App, Tier string
}

// String formats the key as "app.tier".
func (k Key) String() string { return k.App + "." + k.Tier }

// Limit names for errors; they match the configuration fields.
const (
	LimitPerApp = "limits.max_series_per_app"
	LimitTotal  = "limits.max_series"
)

// Error is a series refused by a limit: which limit, its value and the
// series that would have passed it.
type Error struct {
	// Limit is LimitPerApp or LimitTotal.
	Limit string
	// Value is the configured limit.
	Value int
	// Series is the refused series.
	Series Key
}

// Error says which limit refused which series, e.g. "app api has 1000
// series, the limit limits.max_series_per_app: api.t1001 refused".
func (e *Error) Error() string {
	if e.Limit == LimitPerApp {
		return fmt.Sprintf("app %s has %d series, the limit %s: %s refused", e.Series.App, e.Value, e.Limit, e.Series)
	}
	return fmt.Sprintf("%d series known, the limit %s: %s refused", e.Value, e.Limit, e.Series)
}

// Series tracks admitted series against a per-app and a total limit. It is
// safe for concurrent use; its memory is bounded by the total limit.
// Admitted series are kept until Forget releases them (a service that
// evicts an idle series' state frees its place).
type Series struct {
	perApp, total int

	mu    sync.Mutex
	apps  map[string]map[string]struct{}
	count int
}

// NewSeries returns a tracker admitting at most perApp series per app and
// total series in all; a limit ≤ 0 means no limit of that kind.
func NewSeries(perApp, total int) *Series {
	return &Series{perApp: perApp, total: total, apps: map[string]map[string]struct{}{}}
}

// Admit admits app.tier, or returns an *Error when it is new and a limit is
// reached. A known series is always admitted.
func (s *Series) Admit(app, tier string) error {
	return s.AdmitAll([]Key{{App: app, Tier: tier}})
}

// AdmitAll admits every key or none: when any new key would pass a limit,
// nothing is added and the *Error names the first such key. Repeated keys
// count once.
func (s *Series) AdmitAll(keys []Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var added map[Key]struct{}
	perApp := map[string]int{}
	for _, k := range keys {
		if _, ok := s.apps[k.App][k.Tier]; ok {
			continue
		}
		if _, ok := added[k]; ok {
			continue
		}
		n := len(s.apps[k.App]) + perApp[k.App]
		if s.perApp > 0 && n >= s.perApp {
			return &Error{Limit: LimitPerApp, Value: s.perApp, Series: k}
		}
		if s.total > 0 && s.count+len(added) >= s.total {
			return &Error{Limit: LimitTotal, Value: s.total, Series: k}
		}
		if added == nil {
			added = map[Key]struct{}{}
		}
		added[k] = struct{}{}
		perApp[k.App]++
	}
	for k := range added {
		tiers := s.apps[k.App]
		if tiers == nil {
			tiers = map[string]struct{}{}
			s.apps[k.App] = tiers
		}
		tiers[k.Tier] = struct{}{}
	}
	s.count += len(added)
	return nil
}

// Len returns how many series are admitted.
func (s *Series) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// HasApp says whether any series of app is admitted.
func (s *Series) HasApp(app string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.apps[app]
	return ok
}

// Forget releases app.tier's place, so a new series may take it; it is a
// no-op for a series not admitted.
func (s *Series) Forget(app, tier string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tiers, ok := s.apps[app]
	if !ok {
		return
	}
	if _, ok := tiers[tier]; !ok {
		return
	}
	delete(tiers, tier)
	if len(tiers) == 0 {
		delete(s.apps, app)
	}
	s.count--
}
