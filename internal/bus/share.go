package bus

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/headroomhq/headroom/proto"
)

// Share is this process's place in service's group for work that is not
// read from a stream, such as the collector's pull sources: the members
// alive (the same NATS micro service membership the partitioned consumers
// use, see member) split string keys among themselves by the same
// rendezvous rule as partitions, so they agree without talking to each
// other, and a member joining or leaving moves only its own share.
//
// Nothing here stops two members from both believing they own a key for a
// moment (their views of the members are taken at different times): work
// done under a Share must be idempotent, e.g. published with deterministic
// message ids that JetStream deduplicates.
type Share struct {
	b    *Bus
	m    *member
	once sync.Once
}

// Share joins service's group and returns once the members alive are
// known (one round of pings), or fails when ctx ends first. Close leaves
// the group.
func (b *Bus) Share(ctx context.Context, service string) (*Share, error) {
	if err := proto.CheckToken("service", service); err != nil {
		return nil, err
	}
	m, err := b.join(service)
	if err != nil {
		return nil, err
	}
	for {
		members, changed := m.view()
		if members != nil {
			return &Share{b: b, m: m}, nil
		}
		select {
		case <-ctx.Done():
			b.leave(m)
			return nil, fmt.Errorf("share %s: %w", service, ctx.Err())
		case <-changed:
		}
	}
}

// Member is this member's id in the group.
func (s *Share) Member() string { return s.m.id() }

// View returns the split as this member sees it now.
func (s *Share) View() ShareView {
	members, changed := s.m.view()
	return ShareView{self: s.m.id(), members: members, changed: changed}
}

// Close leaves the group (once; later calls do nothing), saying so: the
// other members take this one's keys at once. Stop working the keys first.
func (s *Share) Close() { s.once.Do(func() { s.b.leave(s.m) }) }

// ShareView is one consistent snapshot of a Share: the members alive and a
// channel closed as soon as they change, so a caller that acts on Owns and
// then waits on Changed misses no change.
type ShareView struct {
	self    string
	members []string
	changed <-chan struct{}
}

// Owns reports whether key goes to this member.
func (v ShareView) Owns(key string) bool { return v.Owner(key) == v.self }

// Owner is the id of the member key goes to.
func (v ShareView) Owner(key string) string { return ownerOf(v.members, key) }

// Members lists the ids of the members alive, sorted, this one included.
func (v ShareView) Members() []string { return slices.Clone(v.members) }

// Changed is closed when the members change after this view was taken.
func (v ShareView) Changed() <-chan struct{} { return v.changed }
