package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestAPIFailuresNotFlooding: while the streams cannot be read (here the
// METRICS stream is gone), every /api/v1/apps and /api/v1/fleet request
// is answered 503, but logged at most a burst's worth in a period, each
// route apart: a dashboard polling, or a client in a loop, would
// otherwise write an error line per request.
func TestAPIFailuresNotFlooding(t *testing.T) {
	logs := newSyncBuf()
	e := startEnvLog(t, gateway.DefaultConfig(), zerolog.New(logs).Level(zerolog.WarnLevel))
	if err := natstest.JetStream(t, e.bus).DeleteStream(context.Background(), proto.StreamName(e.bus.Prefix(), proto.KindMetrics)); err != nil {
		t.Fatal(err)
	}
	const tries = 30
	for _, c := range []struct{ path, msg string }{{"/api/v1/apps", "list apps"}, {"/api/v1/fleet", "fleet overview"}} {
		for i := range tries {
			resp, err := http.Get(e.srv.URL + c.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("%s try %d without the METRICS stream: %d, want 503", c.path, i+1, resp.StatusCode)
			}
		}
		if n := strings.Count(logs.String(), `"message":"`+c.msg+`"`); n == 0 || n > 10 {
			t.Errorf("%d %s failures logged %d lines, want 1 to 10 (sampled)\n%.1500s", tries, c.path, n, logs.String())
		}
	}
}
