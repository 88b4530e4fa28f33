package service

import (
	"fmt"
	"slices"
	"sync"
)

// Ready is a readiness gate: /readyz answers 200 only once every named part
// has been marked ready and every check passes.
type Ready struct {
	mu      sync.Mutex
	waiting map[string]bool
	failing map[string]error
	checks  map[string]func() error
}

// NewReady returns a gate waiting for the named parts.
func NewReady(parts ...string) *Ready {
	r := &Ready{waiting: map[string]bool{}, failing: map[string]error{}, checks: map[string]func() error{}}
	for _, p := range parts {
		r.waiting[p] = true
	}
	return r
}

// Wait adds a part the gate waits for.
func (r *Ready) Wait(part string) {
	r.mu.Lock()
	r.waiting[part] = true
	r.mu.Unlock()
}

// Set marks part ready.
func (r *Ready) Set(part string) {
	r.mu.Lock()
	delete(r.waiting, part)
	delete(r.failing, part)
	r.mu.Unlock()
}

// Fail marks a part that was ready as not ready for err, until Set.
func (r *Ready) Fail(part string, err error) {
	r.mu.Lock()
	r.failing[part] = err
	r.mu.Unlock()
}

// Health returns a callback that fails part with a non-nil error and sets it
// ready again with nil (bus.ConsumerSpec.Health).
func (r *Ready) Health(part string) func(error) {
	return func(err error) {
		if err != nil {
			r.Fail(part, err)
			return
		}
		r.Set(part)
	}
}

// Check adds a condition evaluated at each readiness probe (e.g. the NATS
// connection is up).
func (r *Ready) Check(name string, fn func() error) {
	r.mu.Lock()
	r.checks[name] = fn
	r.mu.Unlock()
}

// Err returns nil when ready, else what is still missing.
func (r *Ready) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.waiting) > 0 {
		var parts []string
		for p := range r.waiting {
			parts = append(parts, p)
		}
		slices.Sort(parts)
		return fmt.Errorf("waiting for %v", parts)
	}
	failing := make([]string, 0, len(r.failing))
	for p := range r.failing {
		failing = append(failing, p)
	}
	slices.Sort(failing)
	for _, p := range failing {
		return fmt.Errorf("%s: %w", p, r.failing[p])
	}
	names := make([]string, 0, len(r.checks))
	for n := range r.checks {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := r.checks[n](); err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	return nil
}
