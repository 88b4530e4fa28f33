package gateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
)

// TestAPIClientGoneNotLoggedAsError: a client that hangs up while its
// /api/v1/apps or /api/v1/fleet request reads the streams is not the
// gateway's failure: no error line is written for it (a client in a
// loop of requests it abandons would otherwise write one per request,
// each an error an operator is paged for).
func TestAPIClientGoneNotLoggedAsError(t *testing.T) {
	for _, c := range []struct{ path, msg string }{{"/api/v1/apps", "list apps"}, {"/api/v1/fleet", "fleet overview"}} {
		t.Run(c.path, func(t *testing.T) {
			logs := newSyncBuf()
			cfg := gateway.DefaultConfig()
			cfg.MaxAPIRequests = 1
			e := startEnvLog(t, cfg, zerolog.New(logs).Level(zerolog.WarnLevel))
			entered := make(chan struct{}, 1)
			first := true
			gateway.SetAPIHook(e.gw, func(ctx context.Context) {
				if first { // only the first request, and one at a time (1 place)
					first = false
					entered <- struct{}{}
					<-ctx.Done() // held until the gateway sees its client gone
				}
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				done <- err
			}()
			<-entered
			cancel()
			if err := <-done; err == nil {
				t.Fatal("the abandoned request succeeded")
			}
			// The place frees once the abandoned request has ended (and
			// logged, if it does): wait for a request to be let in.
			deadline := time.Now().Add(10 * time.Second)
			for {
				resp, err := http.Get(e.srv.URL + c.path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusTooManyRequests {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the abandoned request still holds its place after 10s")
				}
			}
			if out := logs.String(); strings.Contains(out, c.msg) {
				t.Errorf("a client hanging up is logged as the gateway's error:\n%.1500s", out)
			}
		})
	}
}
