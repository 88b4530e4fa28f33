package bus

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// A member is this process's place in its service's group. Membership is
// what NATS already provides, nothing of our own: every member registers as
// an instance of the NATS micro service "headroom_<prefix>_<service>", and
// the members alive are those answering the standard $SRV.PING of that
// name. Each partition goes to the member whose id ranks highest for it
// (rendezvous hashing), so the members agree on the split without talking to
// each other, and a member joining or leaving moves only its own share.
// Which member actually receives a partition's messages is decided by the
// server: every partition's durable consumer pins one client at a time
// (priority group policy pinned_client), so a stale or split view of the
// members can delay work, never duplicate it.
type member struct {
	b       *Bus
	service string
	name    string // micro service name
	svc     micro.Service

	mu      sync.Mutex
	members []string      // sorted ids of the members alive, self included; nil until the first ping
	changed chan struct{} // closed when members changes
	refs    int
	stop    context.CancelFunc
	done    chan struct{}
}

// missedPings is how many pings in a row a member may miss before the
// others drop it and take its partitions.
const missedPings = 3

// memberName is the micro service name of service's group under prefix.
func memberName(prefix, service string) string {
	r := strings.NewReplacer(".", "_")
	return "headroom_" + r.Replace(prefix) + "_" + service
}

// join returns this process's member of service's group, registering it on
// first use; leave undoes one join, and the last leave stops the member.
func (b *Bus) join(service string) (*member, error) {
	b.groupMu.Lock()
	defer b.groupMu.Unlock()
	if m := b.groups[service]; m != nil {
		m.refs++
		return m, nil
	}
	name := memberName(b.cfg.Prefix, service)
	svc, err := micro.AddService(b.nc, micro.Config{Name: name, Version: "1.0.0",
		Description: "Headroom " + service + " group member (" + b.cfg.Name + ")"})
	if err != nil {
		return nil, fmt.Errorf("join group %s: %w", name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{b: b, service: service, name: name, svc: svc,
		changed: make(chan struct{}), refs: 1, stop: cancel, done: make(chan struct{})}
	b.groups[service] = m
	go m.watch(ctx)
	b.log.Info().Str("group", name).Str("member", m.id()).Msg("joined group")
	return m, nil
}

func (b *Bus) leave(m *member) {
	b.groupMu.Lock()
	m.refs--
	last := m.refs == 0
	if last {
		delete(b.groups, m.service)
	}
	b.groupMu.Unlock()
	if last {
		m.stop()
		<-m.done
		_ = m.svc.Stop()
		b.log.Info().Str("group", m.name).Str("member", m.id()).Msg("left group")
	}
}

func (m *member) id() string { return m.svc.Info().ID }

// view returns the members alive (nil until they are first known) and a
// channel closed when they change.
func (m *member) view() ([]string, <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.members, m.changed
}

// watch asks who is alive every GroupCheck until ctx ends.
func (m *member) watch(ctx context.Context) {
	defer close(m.done)
	every := m.b.cfg.groupCheck()
	missed := map[string]int{} // consecutive pings a member has not answered
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		known, _ := m.view()
		ids, err := m.ping(ctx, known)
		if err != nil {
			if ctx.Err() == nil {
				m.b.log.Debug().Err(err).Str("group", m.name).Msg("group ping failed")
			}
			t.Reset(every)
			continue
		}
		if !slices.Contains(ids, m.id()) {
			ids = append(ids, m.id()) // our own answer was lost: we are alive
		}
		// A member is dropped only after missing missedPings pings in a
		// row: one slow answer on a loaded machine must not move its
		// partitions back and forth.
		for _, id := range ids {
			delete(missed, id)
		}
		m.mu.Lock()
		for _, id := range m.members {
			if !slices.Contains(ids, id) {
				if missed[id]++; missed[id] < missedPings {
					ids = append(ids, id)
				} else {
					delete(missed, id)
				}
			}
		}
		slices.Sort(ids)
		if m.members == nil || !slices.Equal(ids, m.members) {
			m.b.log.Info().Str("group", m.name).Strs("members", ids).Msg("group members changed")
			m.members = ids
			close(m.changed)
			m.changed = make(chan struct{})
		}
		m.mu.Unlock()
		t.Reset(every)
	}
}

// newcomerWait is how long a ping waits for a member not yet known once
// every known member has answered.
const newcomerWait = 150 * time.Millisecond

// ping sends the micro PING of the group and gathers the answers for half
// a GroupCheck, or until every member of known has answered, returning the
// sorted ids (a member not yet known gets newcomerWait after the known
// ones). A member busy on a loaded machine may answer late: it gets
// the whole window, not a short wait after the first answer, so it is not
// taken for gone (and its partitions moved) for being slow.
func (m *member) ping(ctx context.Context, known []string) ([]string, error) {
	subj, err := micro.ControlSubject(micro.PingVerb, m.name, "")
	if err != nil {
		return nil, err
	}
	inbox := m.b.nc.NewRespInbox()
	sub, err := m.b.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, fmt.Errorf("group ping: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := m.b.nc.PublishRequest(subj, inbox, nil); err != nil {
		return nil, fmt.Errorf("group ping: %w", err)
	}
	var ids []string
	deadline := time.Now().Add(m.b.cfg.groupCheck() / 2)
	for ctx.Err() == nil {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		msg, err := sub.NextMsg(left)
		if err == nats.ErrTimeout {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("group ping: %w", err)
		}
		var p micro.Ping
		if json.Unmarshal(msg.Data, &p) == nil && p.Name == m.name && p.ID != "" && !slices.Contains(ids, p.ID) {
			ids = append(ids, p.ID)
		}
		if len(known) > 0 && !slices.ContainsFunc(known, func(id string) bool { return !slices.Contains(ids, id) }) {
			// Every member known has answered: a newcomer's answer comes
			// with theirs, so wait only a little longer for it.
			if soon := time.Now().Add(newcomerWait); soon.Before(deadline) {
				deadline = soon
			}
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// ownerOf is the member that key goes to among members: the one with the
// highest rendezvous hash of (member, key). Share's keys are split by it.
func ownerOf(members []string, key string) string {
	var best string
	var bestH uint64
	for _, id := range members {
		if v := rendezvous(id, key); best == "" || v > bestH {
			best, bestH = id, v
		}
	}
	return best
}

// rendezvous is member id's weight for key.
func rendezvous(id, key string) uint64 {
	sum := sha256.Sum256([]byte(id + "/" + key))
	return binary.BigEndian.Uint64(sum[:8])
}

// split gives each of n partitions an owner among members: partitions in
// order, each to the member ranking highest for it by rendezvous hash among
// those still under their fair share (rendezvous hashing with bounded
// loads): n/len(members), and one more for the first n%len(members)
// members to reach that. Plain rendezvous hashing left one of two members
// without any of 8 partitions about once in 128 starts, so a second copy
// added nothing; bounded, every member gets n/len(members) rounded down or
// up, and a member joining or leaving moves a few partitions besides its
// own (TestSplitIsBalanced). Every member computes the same split from the
// same view.
func split(members []string, n int) []string {
	if len(members) == 0 {
		return make([]string, n)
	}
	base, bonus := n/len(members), n%len(members)
	load := make(map[string]int, len(members))
	owners := make([]string, n)
	type weighed struct {
		id string
		w  uint64
	}
	ranked := make([]weighed, len(members))
	for p := range n {
		key := strconv.Itoa(p)
		for k, id := range members {
			ranked[k] = weighed{id, rendezvous(id, key)}
		}
		slices.SortFunc(ranked, func(a, b weighed) int {
			if c := cmp.Compare(b.w, a.w); c != 0 {
				return c // heaviest first
			}
			return strings.Compare(a.id, b.id)
		})
		for _, m := range ranked {
			id := m.id
			if load[id] < base || (load[id] == base && bonus > 0) {
				if load[id] == base {
					bonus--
				}
				owners[p], load[id] = id, load[id]+1
				break
			}
		}
	}
	return owners
}

// owned lists the partitions of n that split gives to id among members.
func owned(members []string, id string, n int) []int {
	var ps []int
	for p, o := range split(members, n) {
		if o == id {
			ps = append(ps, p)
		}
	}
	return ps
}
