package limits_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/headroomhq/headroom/internal/limits"
)

// TestSeriesPerApp admits up to the per-app limit, refuses the next new
// tier naming the limit, and keeps admitting known tiers and other apps.
func TestSeriesPerApp(t *testing.T) {
	s := limits.NewSeries(3, 100)
	for i := range 3 {
		if err := s.Admit("api", fmt.Sprintf("t%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	err := s.Admit("api", "t3")
	var le *limits.Error
	if !errors.As(err, &le) || le.Limit != limits.LimitPerApp || le.Value != 3 || le.Series.Tier != "t3" {
		t.Fatalf("4th tier: %v", err)
	}
	if !strings.Contains(err.Error(), "app api has 3 series, the limit limits.max_series_per_app") {
		t.Fatalf("message %q", err)
	}
	if err := s.Admit("api", "t1"); err != nil {
		t.Fatalf("known series refused: %v", err)
	}
	if err := s.Admit("shop", "web"); err != nil {
		t.Fatalf("other app refused: %v", err)
	}
	if s.Len() != 4 {
		t.Fatalf("%d series, want 4", s.Len())
	}
}

// TestSeriesTotalAllOrNothing refuses a batch that would pass the total
// limit and adds none of it; duplicates in a batch count once.
func TestSeriesTotalAllOrNothing(t *testing.T) {
	s := limits.NewSeries(0, 3)
	if err := s.AdmitAll([]limits.Key{{"a", "x"}, {"a", "x"}, {"b", "x"}}); err != nil {
		t.Fatal(err)
	}
	err := s.AdmitAll([]limits.Key{{"c", "x"}, {"d", "x"}})
	var le *limits.Error
	if !errors.As(err, &le) || le.Limit != limits.LimitTotal || le.Value != 3 || le.Series.String() != "d.x" {
		t.Fatalf("batch over total: %v", err)
	}
	if s.Len() != 2 {
		t.Fatalf("%d series after a refused batch, want 2", s.Len())
	}
	if err := s.Admit("c", "x"); err != nil {
		t.Fatal(err)
	}
	if err := s.Admit("e", "x"); err == nil {
		t.Fatal("4th series admitted with total limit 3")
	}
}

// TestSeriesConcurrent never lets concurrent admissions pass the limit.
func TestSeriesConcurrent(t *testing.T) {
	s := limits.NewSeries(0, 50)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				if s.Admit(fmt.Sprintf("g%d", g), fmt.Sprintf("t%d", i)) == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if ok != 50 || s.Len() != 50 {
		t.Fatalf("%d admitted, %d tracked; want 50", ok, s.Len())
	}
}

// TestSeriesForget frees an evicted series' place for a new one, under both
// limits, and ignores series never admitted.
func TestSeriesForget(t *testing.T) {
	s := limits.NewSeries(2, 3)
	for _, k := range []limits.Key{{App: "a", Tier: "x"}, {App: "a", Tier: "y"}, {App: "b", Tier: "x"}} {
		if err := s.Admit(k.App, k.Tier); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Admit("c", "x"); err == nil {
		t.Fatal("a 4th series passed the total limit")
	}
	s.Forget("a", "nope")
	s.Forget("zz", "x")
	if s.Len() != 3 {
		t.Fatalf("len %d after forgetting unknown series", s.Len())
	}
	s.Forget("b", "x")
	if err := s.Admit("c", "x"); err != nil {
		t.Fatalf("after forgetting b.x: %v", err)
	}
	if err := s.Admit("a", "z"); err == nil {
		t.Fatal("a 3rd tier of a passed the per-app limit")
	}
	s.Forget("a", "x")
	if err := s.Admit("a", "z"); err != nil {
		t.Fatalf("after forgetting a.x: %v", err)
	}
	if s.Len() != 3 {
		t.Fatalf("len %d, want 3", s.Len())
	}
}

func TestSeriesHasApp(t *testing.T) {
	s := limits.NewSeries(0, 0)
	if s.HasApp("api") {
		t.Fatal("api admitted before any series")
	}
	if err := s.Admit("api", "web"); err != nil {
		t.Fatal(err)
	}
	if !s.HasApp("api") || s.HasApp("shop") {
		t.Fatalf("HasApp(api) = %v, HasApp(shop) = %v after api.web, want true, false", s.HasApp("api"), s.HasApp("shop"))
	}
	s.Forget("api", "web")
	if s.HasApp("api") {
		t.Fatal("api admitted after its last series was forgotten")
	}
}
