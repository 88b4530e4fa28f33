package service_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// TestStartingFailed: once Fail is called, /readyz, with the Starting as a
// precheck, says the start failed, at which step and why, before any other
// failing check (the NATS connection the failure closes); every route but
// the ops ones answers 503 "failed to start" without a Retry-After and
// without the error; /healthz stays 200 (the process is alive, closing what
// it opened, and exits on its own: a failing liveness probe would only
// have it killed halfway).
func TestStartingFailed(t *testing.T) {
	ready := service.NewReady()
	st := service.NewStarting("starting nats")
	ready.Check("nats", func() error { return errors.New("not connected") })
	ready.Precheck("starting", st.Err)
	mux := service.OpsMux(ready, prometheus.NewRegistry())
	mux.HandleFunc("GET /api/v1/apps", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("apps\n")) })
	h := st.Handler(mux)
	st.Step("building decider")
	st.Fail(errors.New("decider: boom"))
	for _, c := range []struct {
		path   string
		code   int
		body   string
		retry  bool
		secret bool // the error must not be in the body
	}{
		{"/healthz", http.StatusOK, "ok", false, false},
		{"/readyz", http.StatusServiceUnavailable, "not ready: starting: failed: building decider: decider: boom", false, false},
		{"/api/v1/apps", http.StatusServiceUnavailable, "failed to start", false, true},
		{"/not-yet-added", http.StatusServiceUnavailable, "failed to start", false, true},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.path, nil))
		body, _ := io.ReadAll(rec.Result().Body)
		retry := rec.Header().Get("Retry-After")
		if rec.Code != c.code || !strings.Contains(string(body), c.body) || (retry != "") != c.retry ||
			c.secret && strings.Contains(string(body), "boom") {
			t.Errorf("%s after Fail: %d %q Retry-After %q, want %d %q (Retry-After: %v)", c.path, rec.Code, body, retry, c.code, c.body, c.retry)
		}
	}
	// Done after Fail (never called so, but) does not make it ready.
	st.Done()
	if err := ready.Err(); err == nil || !strings.Contains(err.Error(), "failed") {
		t.Errorf("ready after Fail then Done: %v, want the failure", err)
	}
}

// TestPrecheckFirst: a failing precheck is Err's answer before failing
// checks, failed and waiting parts, whatever the names' order; prechecks
// answer in the order added; once they pass, the checks answer as before.
func TestPrecheckFirst(t *testing.T) {
	ready := service.NewReady("a part")
	ready.Check("a check", func() error { return errors.New("check down") })
	var first, second error
	ready.Precheck("z first", func() error { return first })
	ready.Precheck("y second", func() error { return second })
	for _, c := range []struct {
		first, second error
		want          string
	}{
		{errors.New("one"), errors.New("two"), "z first: one"},
		{nil, errors.New("two"), "y second: two"},
		{nil, nil, "a check: check down"},
	} {
		first, second = c.first, c.second
		if err := ready.Err(); err == nil || err.Error() != c.want {
			t.Errorf("prechecks %v, %v: %v, want %q", c.first, c.second, err, c.want)
		}
	}
}

// TestStartingFailedHidesUserinfo: a failure whose error quotes a URL with
// credentials (url.Parse's error quotes the URL whole) says so on /readyz,
// which without -ops.addr answers on the public listener, with the URL's
// user information replaced, whatever the scheme and even with an @, / or
// space in the password; the rest of the error is kept, and errors.Is
// still sees it.
func TestStartingFailedHidesUserinfo(t *testing.T) {
	// What url.Parse returns for that URL (its port is not a number).
	parseErr := &url.Error{Op: "parse", URL: "https://ops:hunter2@hooks.example:bad/scale", Err: errors.New(`invalid port ":bad" after host`)}
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("executor: %w", parseErr),
			`failed: building executor: executor: parse "https://REDACTED@hooks.example:bad/scale": invalid port ":bad" after host`},
		{errors.New("connect nats://svc:hunter2@nats.internal:4222, tls://a:b@c:1: refused"),
			"failed: building executor: connect nats://REDACTED@nats.internal:4222, tls://REDACTED@c:1: refused"},
		{errors.New(`dial "http://u:hunter2@x@host/p?q=a@b": refused`),
			`failed: building executor: dial "http://REDACTED@host/p?q=a@b": refused`},
		// A raw / or space in the password (client-go and url.Parse quote
		// such a URL as it was written).
		{errors.New(`host must be a URL or a host:port pair: "https://ops:a/hunter2@kube.example:bad/"`),
			`failed: building executor: host must be a URL or a host:port pair: "https://REDACTED@kube.example:bad/"`},
		{errors.New(`parse "http://u:hunter2 x@h/p": net/url: invalid userinfo`),
			`failed: building executor: parse "http://REDACTED@h/p": net/url: invalid userinfo`},
		{errors.New("decider: boom (see http://docs.example/x, mail ops@example.com)"),
			"failed: building executor: decider: boom (see http://docs.example/x, mail ops@example.com)"},
	} {
		st := service.NewStarting("building executor")
		st.Fail(c.err)
		err := st.Err()
		if err == nil || err.Error() != c.want || !errors.Is(err, c.err) {
			t.Errorf("Fail(%v): Err %v, want %q wrapping it", c.err, err, c.want)
		}
	}
}
