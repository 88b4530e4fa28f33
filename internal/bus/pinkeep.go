package bus

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// pinKeeper renews a partition durable's pin while its member is busy with
// the messages the client has buffered.
//
// The server renews a pin only when a pull request carrying its id arrives
// (nats-server 2.15: not on acks, in-progress acks or deliveries), and
// drops it PinnedTTL after the last one. The client (nats.go Consume) asks
// for the next messages only once half its buffer is handled: 257 of the
// 512 it holds. A member whose handler takes more than pinnedTTL/257
// (39 ms) a message through a backlog would lose its pin at every batch,
// and the next pull is pinned afresh, to it or to any other member reading
// the durable then (a take-over under way, a split the members disagree
// on): the partition flaps, each flap costs a rebuild or a Repinned reset,
// and the old member still handles what it had buffered.
//
// So while a member's handler is busy, the keeper sends a pull request of
// its own every pinnedTTL/4, with the pin id the member last received, that
// can take no message: max_bytes 1, which every message exceeds, so the
// server answers it with a 409 and delivers the message to the member's
// real pull request instead, or, with none waiting (a busy member's buffer
// is full), keeps it for the next one: the consumer's sequences do not
// move (a waiting redelivery goes to the back of the server's queue). An idle member sends none: Consume's own pull
// requests, renewed every pullExpiry, keep its pin. A member that dies
// sends nothing, so a take-over still happens PinnedTTL after its death;
// one whose handler hangs keeps its partitions while it keeps its place in
// the group (it still answers the others' pings), but once told to hand a
// partition over it renews only until Consume gives up its drain (10 s),
// so the next owner takes over PinnedTTL later, as before the renewals.
// Smaller client batches would renew more often too, but only for handlers
// fast enough for them, and at the cost of the backfills' throughput; a
// longer PinnedTTL would slow every take-over after a death.
type pinKeeper struct {
	nc      *nats.Conn
	subject string // the durable's CONSUMER.MSG.NEXT API subject
	log     zerolog.Logger
	pin     atomic.Pointer[string] // the pin id of the last delivery
	begun   atomic.Uint64          // handler calls begun
	busy    atomic.Int64           // handler calls under way
}

// renewal is the body of a pull request that renews pin and can take no
// message.
type renewal struct {
	Expires  time.Duration `json:"expires"`
	Batch    int           `json:"batch"`
	MaxBytes int           `json:"max_bytes"`
	Group    string        `json:"group"`
	ID       string        `json:"id"`
}

// newPinKeeper returns the keeper of a durable's pin, whose pull
// requests go to subject (Bus.apiSubject's CONSUMER.MSG.NEXT.<stream>.<durable>).
func newPinKeeper(nc *nats.Conn, subject string, log zerolog.Logger) *pinKeeper {
	return &pinKeeper{nc: nc, subject: subject, log: log}
}

// delivered notes the pin id a delivery came under.
func (k *pinKeeper) delivered(pin string) {
	if pin != "" {
		k.pin.Store(&pin)
	}
}

// handling marks a handler call under way until the returned done is called.
func (k *pinKeeper) handling() (done func()) {
	k.begun.Add(1)
	k.busy.Add(1)
	return func() { k.busy.Add(-1) }
}

// run renews the pin every ttl/4 while the member was busy since the last
// time, until ctx ends.
func (k *pinKeeper) run(ctx context.Context, ttl time.Duration) {
	t := time.NewTicker(ttl / 4)
	defer t.Stop()
	var seen uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		begun := k.begun.Load()
		if begun == seen && k.busy.Load() == 0 {
			continue // idle: Consume's own pulls renew the pin
		}
		seen = begun
		k.renew()
	}
}

// renew sends one renewal of the last pin seen. Its answer (a 409, or a 408
// once it expires; a 423 if the pin was lost meanwhile) goes to an inbox no
// one reads: nothing waits on it.
func (k *pinKeeper) renew() {
	pin := k.pin.Load()
	if pin == nil {
		return // not pinned yet: nothing to keep
	}
	body, err := json.Marshal(renewal{Expires: time.Second, Batch: 1, MaxBytes: 1, Group: pinGroup, ID: *pin})
	if err != nil {
		k.log.Error().Err(err).Msg("encode pin renewal")
		return
	}
	if err := k.nc.PublishRequest(k.subject, k.nc.NewInbox(), body); err != nil {
		k.log.Debug().Err(err).Msg("pin renewal not sent")
	}
}
