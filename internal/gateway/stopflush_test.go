package gateway_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
)

// TestRefusalsWhileStoppingSummed: the refusals that come while the
// gateway stops, after its context ended but before Run returns (it
// waits up to 5 s for its WebSockets to close, the HTTP server still
// serving), are in the lines once Run has returned: those after a
// value's first line in a summary, not counted and never written.
func TestRefusalsWhileStoppingSummed(t *testing.T) {
	logs := newSyncBuf()
	b := mustBus(t, natstest.RunJetStream(t), "test")
	g, mux, _, stop := startGatewayLog(t, b, gateway.DefaultConfig(), zerolog.New(logs).Level(zerolog.WarnLevel))
	refuse := func(host string) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/api/v1/apps", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Fatalf("foreign Host %s: %d, want 403", host, rec.Code)
		}
	}
	// a.example's second refusal is summed up as the gateway's context
	// ends: its line says the stop has begun.
	refuse("a.example")
	refuse("a.example")
	release := gateway.HoldClient(g)
	stopped := make(chan struct{})
	go func() { defer close(stopped); stop() }()
	natstest.Eventually(t, 10*time.Second, func() error {
		if _, n, err := accounted(logs.String(), "foreign Host refused", "a.example"); err != nil || n == 0 {
			return fmt.Errorf("no summary of a.example yet (%v):\n%s", err, logs.String())
		}
		return nil
	})
	const tries = 3
	for range tries {
		refuse("b.example")
	}
	release()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the gateway did not stop once its client was released")
	}
	var b2 strings.Builder
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "b.example") {
			b2.WriteString(l + "\n")
		}
	}
	if n, _, err := accounted(b2.String(), "foreign Host refused", "b.example"); err != nil || n != tries {
		t.Errorf("the lines of b.example, refused %d times while the gateway stopped, account for %d (%v):\n%s", tries, n, err, logs.String())
	}
}

// TestRefusalsAfterRunFlushed: the refusals that come after Run has
// returned (the HTTP server still serving: it stops after the gateway,
// and in the all-in-one after every other part) are in the lines once
// the server's owner flushes the gateway (service.Flush, as service.Main
// and the all-in-one do once their HTTP server has stopped): those after
// a Host's first line in a summary, not counted and never written.
func TestRefusalsAfterRunFlushed(t *testing.T) {
	logs := newSyncBuf()
	b := mustBus(t, natstest.RunJetStream(t), "test")
	g, mux, _, stop := startGatewayLog(t, b, gateway.DefaultConfig(), zerolog.New(logs).Level(zerolog.WarnLevel))
	stop() // Run has returned
	const tries = 3
	for range tries {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/apps", nil)
		req.Host = "c.example"
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Fatalf("foreign Host after Run: %d, want 403", rec.Code)
		}
	}
	if n, _, err := accounted(logs.String(), "foreign Host refused", "c.example"); err != nil || n != 1 {
		t.Fatalf("before the flush the lines account for %d (%v), want 1 (the first line):\n%s", n, err, logs.String())
	}
	service.Flush(g)
	if n, s, err := accounted(logs.String(), "foreign Host refused", "c.example"); err != nil || n != tries || s != 1 {
		t.Errorf("after the flush the lines account for %d refusals in %d summaries (%v), want %d in 1:\n%s", n, s, err, tries, logs.String())
	}
}
