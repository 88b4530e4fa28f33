package service

import (
	"errors"
	"net/http"
	"slices"
	"sync"

	"github.com/headroomhq/headroom/internal/redact"
)

// Starting tracks a process that listens before it has built its parts:
// what it is doing now ("starting nats", "building decider") until Done.
// Its Err is a readiness check (Ready.Check, or Ready.Precheck to come
// before the others), so /readyz names the step or its failure (Fail),
// and set as Servers.Starting it holds the HTTP listener's routes.
type Starting struct {
	mu     sync.Mutex
	step   string
	done   bool
	failed error
}

// NewStarting returns a tracker at step.
func NewStarting(step string) *Starting { return &Starting{step: step} }

// Step records what the process is doing now.
func (s *Starting) Step(step string) {
	s.mu.Lock()
	s.step = step
	s.mu.Unlock()
}

// Done records that every part is built.
func (s *Starting) Done() {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
}

// Fail records that the step under way failed with err: the process will
// not start, only close what it opened and exit. Err says so from now on
// ("failed: building decider: …"), not that it is still starting.
func (s *Starting) Fail(err error) {
	s.mu.Lock()
	s.failed = err
	s.mu.Unlock()
}

// Err returns nil once Done, else the current step as the error, or the
// step and its error once Fail was called, any URL's user information in
// it masked (redact.Text): a failure's error may quote one whole
// (url.Parse's does), and /readyz answers on the public listener unless
// -ops.addr is set.
func (s *Starting) Err() error {
	_, err := s.state()
	return err
}

// state returns whether Fail was called, and Err.
func (s *Starting) state() (failed bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.failed != nil:
		return true, startFailure{msg: "failed: " + s.step + ": " + redact.Text(s.failed.Error()), err: s.failed}
	case s.done:
		return false, nil
	}
	return false, errors.New(s.step)
}

// Handler serves h once Done. Before, it serves h only for /healthz,
// /readyz and /metrics (answered, or refused with 404 on an HTTP mux
// without them, as always) and answers every other request 503
// "starting: <step>" with a Retry-After: a route a part has not yet added
// would otherwise answer a misleading 404, and a half-built mux serves a
// part without the rest. Once Fail was called they answer 503 "failed to
// start", with no Retry-After and not why (that is /readyz's and the
// log's, which -ops.addr keeps off this listener).
func (s *Starting) Handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		failed, err := s.state()
		if err == nil || slices.Contains(opsPaths, r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if failed {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("failed to start\n"))
			return
		}
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("starting: " + err.Error() + "\n"))
	})
}

// startFailure is Starting.Err after Fail: msg says it, err is the cause.
type startFailure struct {
	msg string
	err error
}

func (f startFailure) Error() string { return f.msg }
func (f startFailure) Unwrap() error { return f.err }
