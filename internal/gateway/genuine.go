package gateway

import (
	"github.com/vmihailenco/msgpack/v5"

	"github.com/headroomhq/headroom/proto"
)

// keyHead is the part of every per-tier payload that names its app and
// tier; msgpack skips the rest.
type keyHead struct {
	App  string `msgpack:"app"`
	Tier string `msgpack:"tier"`
}

// Key returns the payload's app and tier.
func (h *keyHead) Key() (string, string) { return h.App, h.Tier }

// Readers of the streams, the label values of
// headroom_gateway_mismatched_messages_total.
const (
	readerLive    = "live"
	readerDigest  = "digest"
	readerHistory = "history"
)

// subjectMismatch reports a payload of kind k whose app or tier is not the
// one its subject names (a forgery or a bug upstream), as proto.DecodeOn
// does for every other consumer. A payload that does not decode is let
// through: the client is shown what it is, as notable does.
func subjectMismatch(prefix string, k proto.Kind, subject string, data []byte) error {
	var h keyHead
	if msgpack.Unmarshal(data, &h) != nil {
		return nil
	}
	return proto.CheckSubject(prefix, k, subject, &h)
}

// genuine reports whether a stream message may be forwarded to clients:
// its payload names its subject's app and tier. The gateway is read-only
// toward the bus and cannot send a mismatch to the dead-letter queue, so
// it skips it, counts it by reader and logs it with the subject: a warning
// from the live and digest readers, which see each message once; a debug
// line from history replays, which read it again for every subscription.
func (g *Gateway) genuine(reader string, k proto.Kind, subject string, seq uint64, data []byte) bool {
	err := subjectMismatch(g.prefix, k, subject, data)
	if err == nil {
		return true
	}
	g.metrics.mismatched.WithLabelValues(reader).Inc()
	ev := g.log.Warn()
	if reader == readerHistory {
		ev = g.log.Debug()
	}
	ev.Err(err).Str("subject", subject).Uint64("seq", seq).Str("reader", reader).Msg("message whose payload does not match its subject not forwarded")
	return false
}
