package allinone

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// fakeServers stands for service.Servers: it serves until its context
// ends, or fails with failWith's error once that is sent.
type fakeServers struct {
	failWith chan error
	stopped  chan struct{} // closed when Run's context ends
	returned chan struct{} // closed when Run returns
}

func newFakeServers() *fakeServers {
	return &fakeServers{failWith: make(chan error, 1), stopped: make(chan struct{}), returned: make(chan struct{})}
}

func (s *fakeServers) Run(ctx context.Context) error {
	defer close(s.returned)
	select {
	case err := <-s.failWith:
		return err
	case <-ctx.Done():
		close(s.stopped)
		return nil
	}
}

// fakePart runs until its context ends (then reports whether the servers
// still ran) or fails with failWith's error.
type fakePart struct {
	servers  *fakeServers
	failWith chan error
	// serversUpAtStop receives, once the part's context ends, whether the
	// servers were still serving then.
	serversUpAtStop chan bool
	// flushedAfterServers receives, at each Flush (service.Flusher),
	// whether the servers had returned then.
	flushedAfterServers chan bool
}

func newFakePart(s *fakeServers) *fakePart {
	return &fakePart{servers: s, failWith: make(chan error, 1), serversUpAtStop: make(chan bool, 1), flushedAfterServers: make(chan bool, 2)}
}

// Flush makes fakePart a service.Flusher, as the gateway is.
func (p *fakePart) Flush() {
	select {
	case <-p.servers.returned:
		p.flushedAfterServers <- true
	default:
		p.flushedAfterServers <- false
	}
}

func (p *fakePart) Run(ctx context.Context) error {
	select {
	case err := <-p.failWith:
		return err
	case <-ctx.Done():
	}
	select {
	case <-p.servers.stopped:
		p.serversUpAtStop <- false
	default:
		p.serversUpAtStop <- true
	}
	return nil
}

// TestServe: the parts run beside the servers; a stop drains the parts
// while the servers (the probes) still answer; a part's failure stops
// the rest; a server's failure (its listener gone, the dashboard and
// probes with it) stops the parts and the run instead of leaving the
// all-in-one running without them; in every case each part that is a
// service.Flusher is flushed once, after the servers have returned (the
// gateway's handlers count refusals as long as they serve).
func TestServe(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		name string
		// act ends the run: cancel, or a part's or the servers' failure.
		act     func(cancel context.CancelFunc, s *fakeServers, a *fakePart)
		wantErr string // "" for nil
	}{
		{"stop", func(cancel context.CancelFunc, _ *fakeServers, _ *fakePart) { cancel() }, ""},
		{"part fails", func(_ context.CancelFunc, _ *fakeServers, a *fakePart) { a.failWith <- boom }, "a: boom"},
		{"servers fail", func(_ context.CancelFunc, s *fakeServers, _ *fakePart) { s.failWith <- fmt.Errorf("ops: %w", boom) }, "ops: boom"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newFakeServers()
			a, b := newFakePart(s), newFakePart(s)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- serve(ctx, []part{{name: "a", run: a}, {name: "b", run: b}}, s) }()
			c.act(cancel, s, a)
			select {
			case err := <-done:
				if got := fmt.Sprint(err); (c.wantErr == "" && err != nil) || (c.wantErr != "" && (got != c.wantErr || !errors.Is(err, boom))) {
					t.Fatalf("serve: %v, want %q", err, c.wantErr)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("serve still running: the parts go on without what stopped")
			}
			// b always stops by its context; a too unless it failed.
			for _, p := range []*fakePart{a, b} {
				if c.name == "part fails" && p == a {
					continue
				}
				select {
				case up := <-p.serversUpAtStop:
					if failed := c.name == "servers fail"; !up && !failed {
						t.Error("a part stopped after the servers: the probes were gone while it drained")
					}
				default:
					t.Error("serve returned before a part stopped")
				}
			}
			for i, p := range []*fakePart{a, b} {
				select {
				case after := <-p.flushedAfterServers:
					if !after {
						t.Errorf("part %d flushed while the servers still served", i)
					}
				default:
					t.Errorf("part %d not flushed: what its handlers counted after its Run is never written", i)
				}
				if len(p.flushedAfterServers) != 0 {
					t.Errorf("part %d flushed more than once", i)
				}
			}
		})
	}
}
