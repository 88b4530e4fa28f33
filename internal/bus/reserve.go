package bus

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/headroomhq/headroom/proto"
)

// Reservation is the file store one stream or bucket of provisioning
// reserves on the NATS server: JetStream holds a stream's MaxBytes against
// the server's max store (jetstream max_file_store) when the stream is
// created or its cap raised, and refuses the stream when it does not fit,
// however little the stream holds yet.
type Reservation struct {
	// Stream is the JetStream stream (a bucket's is KV_<bucket>).
	Stream string
	// Bytes is its cap; -1 when it has none (it reserves nothing, and
	// grows until the server's store or the disk is full).
	Bytes int64
	// Flag is the setting that sets Bytes.
	Flag string
}

// Reservations lists the file store EnsureStreams reserves, stream by
// stream and bucket by bucket, on each server holding a replica; none
// with Memory. An account without tiered limits counts each Replicas
// times against its own limit.
func (l StreamLimits) Reservations(prefix string) []Reservation {
	if l.Memory {
		return nil
	}
	capped := func(n int64) int64 {
		if n <= 0 {
			return -1
		}
		return n
	}
	out := make([]Reservation, 0, len(proto.Kinds)+2)
	for _, k := range proto.Kinds {
		out = append(out, Reservation{Stream: proto.StreamName(prefix, k), Bytes: capped(l.MaxBytes), Flag: "-stream.max-bytes"})
	}
	return append(out,
		Reservation{Stream: "KV_" + proto.ReplicaBucket(prefix), Bytes: capped(l.ReplicaMaxBytes), Flag: "-stream.replica-max-bytes"},
		Reservation{Stream: "KV_" + proto.LeaseBucket(prefix), Bytes: capped(l.LeaseMaxBytes()), Flag: "-stream.replica-max-bytes (half of it)"})
}

// Reserved sums rs; capped is false when one of them has no cap, and then
// total counts only those that have.
func Reserved(rs []Reservation) (total int64, capped bool) {
	capped = true
	for _, r := range rs {
		if r.Bytes < 0 {
			capped = false
			continue
		}
		total += r.Bytes
	}
	return total, capped
}

// The JetStream error codes of a stream whose cap the server has no file
// store left to reserve: a single server's (or an account's) refusal, and
// a cluster's meta leader finding no peer with room for a replica, the
// latter among other reasons for finding none (offline, tags), which its
// description lists. A cluster's "insufficient resources" (10023) at
// provisioning is its limit on replicated assets (max_ha_assets), not
// storage.
const (
	errCodeStorageExceeded jetstream.ErrorCode = 10047
	errCodeClusterNoPeers  jetstream.ErrorCode = 10005
)

// noRoom reports whether err is the server refusing a stream's
// reservation.
func noRoom(err error) bool {
	var api *jetstream.APIError
	if !errors.As(err, &api) {
		return false
	}
	return api.ErrorCode == errCodeStorageExceeded ||
		api.ErrorCode == errCodeClusterNoPeers && strings.Contains(api.Description, "insufficient storage")
}

// storeRefusal explains err, the server's refusal to create or enlarge
// r's stream, when it is one for want of file store: which stream, what
// it asked, what provisioning asks in all and which settings change it.
// Any other error is returned as it is.
func (b *Bus) storeRefusal(r Reservation, err error) error {
	if !noRoom(err) {
		return err
	}
	total, _ := Reserved(b.cfg.Streams.Reservations(b.cfg.Prefix))
	if r.Bytes < 0 {
		// No cap reserves nothing, but the server still wants one byte
		// free: every byte of its store is reserved by other streams.
		return fmt.Errorf("%s has no cap (%s -1) and reserves nothing, but the NATS server's jetstream max_file_store (or the account's) is already reserved in full by the streams it holds, "+
			"provisioning's capped ones %d bytes (%s) of it: raise it, or lower the other caps: %w",
			r.Stream, r.Flag, total, FormatBytes(total), err)
	}
	return fmt.Errorf("the NATS server cannot reserve the %d bytes (%s) of file store %s asks (%s); "+
		"provisioning reserves %d bytes (%s) in all, so the server's jetstream max_file_store (and the account's, if it sets one) must hold that beside its other streams: "+
		"raise it, or lower -stream.max-bytes (each of the %d streams) or -stream.replica-max-bytes (the buckets): %w",
		r.Bytes, FormatBytes(r.Bytes), r.Stream, r.Flag, total, FormatBytes(total), len(proto.Kinds), err)
}

// FormatBytes writes n bytes in binary units (12.1 GiB), for people.
func FormatBytes(n int64) string {
	const unit = 1 << 10
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
