package ingest_test

import (
	"math"
	"strings"
	"testing"

	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/ingest"
)

// TestRateCheckOneRule: the push API's settings and the configuration
// file refuse the same rate limits with the same words, one rule in
// internal/config owning the check.
func TestRateCheckOneRule(t *testing.T) {
	for _, c := range []struct {
		yaml  string
		value float64
	}{
		{"-1", -1}, {".nan", math.NaN()}, {".inf", math.Inf(1)}, {"-.inf", math.Inf(-1)}, {"0", 0}, {"2.5", 2.5},
	} {
		t.Run(c.yaml, func(t *testing.T) {
			_, ferr := config.Parse("x.yaml", []byte("push:\n  rate_limit: "+c.yaml+"\napps:\n  shop: {source: push, tiers: [{name: web}]}\n"))
			cfg := ingest.DefaultConfig()
			cfg.RateLimit = c.value
			ierr := cfg.Validate()
			if (ferr == nil) != (ierr == nil) {
				t.Fatalf("the file says %v, the push API %v", ferr, ierr)
			}
			if ferr == nil {
				return
			}
			_, fmsg, _ := strings.Cut(ferr.Error(), "push.rate_limit: ")
			fmsg, _, _ = strings.Cut(fmsg, "\n")
			_, imsg, _ := strings.Cut(ierr.Error(), "push rate limit ")
			if fmsg == "" || fmsg != imsg {
				t.Errorf("the file says %q, the push API %q", fmsg, imsg)
			}
		})
	}
}
