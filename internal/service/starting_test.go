package service_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/service"
)

// TestStartingHolds: until Done, a Starting-held mux answers its ops
// routes as usual and every other route 503 naming the step (with a
// Retry-After), whether the route is already added or not; /readyz, with
// the Starting as a check, names the step. Once Done, the mux answers
// everything, and /readyz is 200.
func TestStartingHolds(t *testing.T) {
	ready := service.NewReady()
	st := service.NewStarting("starting nats")
	ready.Check("starting", st.Err)
	mux := service.OpsMux(ready, prometheus.NewRegistry())
	mux.HandleFunc("GET /api/v1/apps", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("apps\n")) })
	h := st.Handler(mux)
	st.Step("building gateway")
	serve := func(path string) (int, string, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		body, _ := io.ReadAll(rec.Result().Body)
		return rec.Code, string(body), rec.Header().Get("Retry-After")
	}
	for _, c := range []struct {
		path      string
		done      bool
		code      int
		body      string
		retryFrom bool
	}{
		{"/healthz", false, http.StatusOK, "ok", false},
		{"/readyz", false, http.StatusServiceUnavailable, "not ready: starting: building gateway", false},
		{"/metrics", false, http.StatusOK, "", false},
		{"/api/v1/apps", false, http.StatusServiceUnavailable, "starting: building gateway", true},
		{"/not-yet-added", false, http.StatusServiceUnavailable, "starting: building gateway", true},
		{"/readyz", true, http.StatusOK, "ready", false},
		{"/api/v1/apps", true, http.StatusOK, "apps", false},
		{"/not-yet-added", true, http.StatusNotFound, "", false},
	} {
		if c.done {
			st.Done()
		}
		code, body, retry := serve(c.path)
		if code != c.code || !strings.Contains(body, c.body) || (retry != "") != c.retryFrom {
			t.Errorf("%s (done=%v): %d %q Retry-After %q, want %d %q (Retry-After: %v)", c.path, c.done, code, body, retry, c.code, c.body, c.retryFrom)
		}
	}
}
