package service

import (
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Ready is a readiness gate: /readyz answers 200 only once every named part
// has been marked ready and every check passes.
type Ready struct {
	mu        sync.Mutex
	waiting   map[string]bool
	failing   map[string]error
	checks    map[string]func() error
	prechecks []namedCheck
}

type namedCheck struct {
	name string
	fn   func() error
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

// Precheck adds a check evaluated before every Check, in the order added:
// its error is the answer whatever else fails. A start under way or
// failed (Starting.Err) says more than the NATS connection its failure
// closes behind it.
func (r *Ready) Precheck(name string, fn func() error) {
	r.mu.Lock()
	r.prechecks = append(r.prechecks, namedCheck{name, fn})
	r.mu.Unlock()
}

// Err returns nil when ready, else what is wrong: a failing precheck,
// then a failing check (NATS unreachable says more than the parts waiting
// on it), then a part that failed, then the parts not ready yet.
func (r *Ready) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.prechecks {
		if err := c.fn(); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(r.checks)) {
		if err := r.checks[n](); err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(r.failing)) {
		return fmt.Errorf("%s: %w", p, r.failing[p])
	}
	if len(r.waiting) > 0 {
		return fmt.Errorf("waiting for %v", slices.Sorted(maps.Keys(r.waiting)))
	}
	return nil
}
