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
// members can delay work, never duplicate it. A member that stops says so
// on its group's leave subject once its partitions are unpinned, and the
// others drop it at once rather than after missedPings missed pings.
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

	// Leaves heard (guarded by mu): the ping round under way when each was
	// heard, so that round's answers cannot bring the leaver back.
	pings uint64            // ping rounds begun
	left  map[string]uint64 // member id -> pings when its leave was heard
}

// missedPings is how many pings in a row a member may miss before the
// others drop it and take its partitions.
const missedPings = 3

// leaveSubject is where a member of the group named name says it is
// leaving: $SRV.LEAVE.<name>, beside the micro service's own control
// subjects, so the permissions that let a member answer $SRV.PING of its
// group let it hear its group's leaves (deploy/natsconf.py).
func leaveSubject(name string) string { return "$SRV.LEAVE." + name }

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
		changed: make(chan struct{}), refs: 1, stop: cancel, done: make(chan struct{}), left: map[string]uint64{}}
	heard, err := b.nc.Subscribe(leaveSubject(name), m.heardLeave)
	if err != nil {
		cancel()
		_ = svc.Stop()
		return nil, fmt.Errorf("join group %s: hear leaves on %s: %w", name, leaveSubject(name), err)
	}
	b.groups[service] = m
	go func() {
		m.watch(ctx)
		_ = heard.Unsubscribe()
		close(m.done)
	}()
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
		// By now every partition this member ran is drained and unpinned
		// (ConsumeGroup stops its workers before it leaves), so a member
		// that takes one over on hearing the leave finds it free; one
		// still pinned would make it wait, never share it. The micro
		// service stops before the leave is said: Stop drains its ping
		// subscriptions, so a ping already on its way may still be
		// answered, even after the leave, but every ping it answers was
		// routed before its leave, in a round the others heard the leave
		// in or after, whose answers heardLeave keeps from bringing this
		// member back.
		m.stop()
		<-m.done
		_ = m.svc.Stop()
		m.sayLeave()
		b.log.Info().Str("group", m.name).Str("member", m.id()).Msg("left group")
	}
}

// leaveFlush bounds how long a leaving member waits for its leave to reach
// the server; the others drop it after missedPings pings without it.
const leaveFlush = time.Second

// sayLeave tells the other members this one is gone, so they take its
// partitions at once instead of after missedPings missed pings.
func (m *member) sayLeave() {
	err := m.b.nc.Publish(leaveSubject(m.name), []byte(m.id()))
	if err == nil {
		err = m.b.nc.FlushTimeout(leaveFlush)
	}
	if err != nil {
		m.b.log.Warn().Err(err).Str("group", m.name).Str("member", m.id()).
			Msg("could not tell the group this member leaves: the others drop it after missing its pings")
	}
}

// heardLeave drops the member a leave names from the view at once, as if
// it had missed its pings. A leave naming a member still alive (forged, or
// stale) costs it its partitions only until the next ping round begun
// after it, which hears it again; pins keep the others from consuming
// them meanwhile. A leave naming this member is not this member's: it
// says its own only once it has stopped listening.
func (m *member) heardLeave(msg *nats.Msg) {
	id := string(msg.Data)
	if id == "" || id == m.id() {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.left[id] = m.pings
	if i := slices.Index(m.members, id); i >= 0 {
		m.members = slices.Delete(slices.Clone(m.members), i, i+1)
		m.b.log.Info().Str("group", m.name).Str("member", id).Strs("members", m.members).Msg("group member left")
		close(m.changed)
		m.changed = make(chan struct{})
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
		m.mu.Lock()
		known := m.members
		m.pings++
		round := m.pings
		m.mu.Unlock()
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
		// A member whose leave was heard since this round began may have
		// answered it before it stopped: it is gone all the same. One
		// heard before the round began is back if it answered it.
		for id, at := range m.left {
			if at < round {
				delete(m.left, id)
			} else {
				ids = slices.DeleteFunc(ids, func(s string) bool { return s == id })
				delete(missed, id)
			}
		}
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
