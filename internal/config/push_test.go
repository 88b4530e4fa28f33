package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/config"
)

// TestPushAndLimits reads the push API's guards and the series limits, and
// fills the limits' defaults when the section is absent.
func TestPushAndLimits(t *testing.T) {
	f, err := config.Parse("x.yaml", []byte("push:\n  max_concurrent: 4\n  read_timeout: 3s\n  allowed_origins: [\"https://ops.example.com\", \"http://127.0.0.1:3000\"]\n"+
		"limits: {max_series_per_app: 20, idle_after: 30m}\napps:\n  a: {source: sim}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Push.MaxConcurrent != 4 || f.Push.ReadTimeout != 3*time.Second || len(f.Push.AllowedOrigins) != 2 {
		t.Fatalf("push %+v", f.Push)
	}
	if f.Limits.MaxSeriesPerApp != 20 || f.Limits.MaxSeries != config.DefaultLimits().MaxSeries || f.Limits.IdleAfter != 30*time.Minute {
		t.Fatalf("limits %+v", f.Limits)
	}
	f, err = config.Parse("x.yaml", []byte("apps:\n  a: {source: sim}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Limits != config.DefaultLimits() || f.Limits != config.LimitsOf(nil) || f.Limits.MaxSeriesPerApp <= 0 || f.Limits.MaxSeries < f.Limits.MaxSeriesPerApp || f.Limits.IdleAfter <= 0 {
		t.Fatalf("default limits %+v", f.Limits)
	}
}

// TestPushAndLimitErrors names the line and field of each bad setting.
func TestPushAndLimitErrors(t *testing.T) {
	_, err := config.Parse("x.yaml", []byte("push:\n  max_concurrent: -1\n  read_timeout: -1s\n  allowed_origins: [\"evil.example\", \"https://ok.example/path\"]\n"+
		"limits:\n  max_series_per_app: -2\n  max_series: -3\n  idle_after: -1h\napps:\n  a: {source: sim}\n"))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, w := range []string{"x.yaml:2: push.max_concurrent: -1 is negative", "x.yaml:3: push.read_timeout: -1s is negative",
		"push.allowed_origins[0]: \"evil.example\": want", "push.allowed_origins[1]: \"https://ok.example/path\"",
		"x.yaml:6: limits.max_series_per_app: -2 is negative", "x.yaml:7: limits.max_series: -3 is negative", "x.yaml:8: limits.idle_after: -1h0m0s is negative"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in\n%v", w, err)
		}
	}
}

// TestConfiguredSeriesWithinLimits refuses a file whose own sources pass
// the series limits, naming the limit (the push API's, internal/limits).
func TestConfiguredSeriesWithinLimits(t *testing.T) {
	_, err := config.Parse("x.yaml", []byte("limits: {max_series_per_app: 2}\napps:\n  a:\n    source: scrape\n    tiers:\n"+
		"      - {name: web, scrape: {targets: [\"http://127.0.0.1:9100/metrics\"]}}\n"+
		"      - {name: api, scrape: {targets: [\"http://127.0.0.1:9101/metrics\"]}}\n"+
		"      - {name: db, scrape: {targets: [\"http://127.0.0.1:9102/metrics\"]}}\n"))
	if err == nil || !strings.Contains(err.Error(), "apps.a.tiers") || !strings.Contains(err.Error(), "the limit limits.max_series_per_app") {
		t.Fatalf("3 scraped tiers under a limit of 2: %v", err)
	}
	_, err = config.Parse("x.yaml", []byte("limits: {max_series: 5}\napps:\n  a: {source: sim}\n  b: {source: trace, trace: {file: t.csv}}\n"))
	if err == nil || !strings.Contains(err.Error(), "the limit limits.max_series") {
		t.Fatalf("6 simulated series under a limit of 5: %v", err)
	}
	f, err := config.Parse("x.yaml", []byte("limits: {max_series: 6}\napps:\n  a: {source: sim}\n  b: {source: sim}\n"))
	if err != nil || len(f.Series()) != 6 {
		t.Fatalf("6 series within 6: %v", err)
	}
}
