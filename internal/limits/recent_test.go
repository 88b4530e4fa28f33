package limits_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/limits"
)

// TestRecentFreesIdlePlaces: the series of an app none of whose series was
// admitted for the idle limit give their places back at the next sweep
// (every eighth of the limit); pinned series, series still admitted and
// quiet series of a busy app keep theirs; without an idle limit no place
// is ever freed.
func TestRecentFreesIdlePlaces(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		app   string
		at    time.Duration
		limit string // "" when admitted
	}
	// k is app.tier's key, app's web tier when no tier is named.
	k := func(name string) []limits.Key {
		app, tier, ok := strings.Cut(name, ".")
		if !ok {
			tier = "web"
		}
		return []limits.Key{{App: app, Tier: tier}}
	}
	for _, c := range []struct {
		name  string
		idle  time.Duration
		steps []step
		held  int
	}{
		{"idle limit", time.Hour, []step{
			{"a", 0, ""},
			{"b", 0, ""},
			{"c", 0, limits.LimitTotal},
			{"b", 50 * time.Minute, ""},
			{"c", 59 * time.Minute, limits.LimitTotal}, // a quiet 59 min: not idle
			{"c", 70 * time.Minute, ""},                // a quiet 70 min: freed
			{"a", 70 * time.Minute, limits.LimitTotal}, // pinned, b, c
			{"a", 3 * time.Hour, ""},                   // b and c freed
		}, 2},
		{"a busy app keeps its quiet tiers", time.Hour, []step{
			{"a.web", 0, ""},
			{"a.cache", 0, ""},
			{"b", 0, limits.LimitTotal},
			{"a.web", 50 * time.Minute, ""},
			{"b", 70 * time.Minute, limits.LimitTotal}, // a.cache quiet 70 min, but a is not
			{"b", 3 * time.Hour, ""},                   // a quiet: a.web and a.cache freed
		}, 2},
		{"an app busy with its pinned series keeps its quiet ones", time.Hour, []step{
			{"pinned.cache", 0, ""},
			{"b", 0, ""},
			{"pinned", 50 * time.Minute, ""},
			{"b", 50 * time.Minute, ""},
			{"c", 70 * time.Minute, limits.LimitTotal}, // pinned.cache quiet 70 min, but its app is not
			{"c", 3 * time.Hour, ""},                   // both apps quiet: pinned.cache and b freed
		}, 2},
		{"no idle limit", 0, []step{
			{"a", 0, ""},
			{"b", 0, ""},
			{"c", 1000 * time.Hour, limits.LimitTotal},
		}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := limits.NewRecent(0, 3, c.idle)
			if err := r.Pin(k("pinned")); err != nil {
				t.Fatal(err)
			}
			for _, s := range c.steps {
				err := r.AdmitAll(k(s.app), t0.Add(s.at))
				var le *limits.Error
				switch {
				case s.limit == "" && err != nil:
					t.Fatalf("%s at %v: %v", s.app, s.at, err)
				case s.limit != "" && (!errors.As(err, &le) || le.Limit != s.limit):
					t.Fatalf("%s at %v: %v, want refused by %s", s.app, s.at, err, s.limit)
				}
			}
			if r.Len() != c.held {
				t.Fatalf("%d places held, want %d", r.Len(), c.held)
			}
		})
	}
}
