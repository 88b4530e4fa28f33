package allinone_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestPushedTierIsDecided pushes ticks of an app and tier no policy names
// ("api"/"frontend") to the all-in-one's push API: the pipeline forecasts,
// scores and decides it with the default front-tier policy.
func TestPushedTierIsDecided(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	r := start(t, testConfig(t, time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC), 3))
	now := time.Now().UTC().Truncate(time.Minute)
	var ticks []string
	for i := 10; i > 0; i-- {
		ticks = append(ticks, fmt.Sprintf(`{"app":"api","tier":"frontend","time":%q,"replicas":2,"values":{"rps":%d,"cpu":0.5}}`,
			now.Add(-time.Duration(i)*time.Minute).Format(time.RFC3339), 100+i))
	}
	resp, err := http.Post("http://"+r.sys.HTTPAddr+"/api/v1/metrics", "application/json", strings.NewReader("["+strings.Join(ticks, ",")+"]"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("push: %s", resp.Status)
	}
	natstest.Eventually(t, time.Minute, func() error {
		ds := all[proto.Decision](t, r.js, "DECISIONS", "apm.decision.api.frontend")
		if len(ds) < 9 { // every tick but the last, which waits for a later one
			return fmt.Errorf("%d decisions for api/frontend", len(ds))
		}
		if ds[0].Reason == "" {
			return fmt.Errorf("decision without reason: %+v", ds[0])
		}
		return nil
	})
}
