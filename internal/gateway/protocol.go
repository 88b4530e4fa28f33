package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sync"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/headroomhq/headroom/proto"
)

// Client operations (the "op" of a JSON text frame).
const (
	OpSubscribe   = "subscribe"   // start (or replace) a subscription: history, then live
	OpUnsubscribe = "unsubscribe" // end a subscription
	OpPing        = "ping"        // ask for a pong (browsers cannot send WebSocket pings)
)

// Server frame types (the "type" of a msgpack binary frame).
const (
	FrameHello       = "hello"        // first frame: prefix, version, server time, history cap
	FrameSubscribed  = "subscribed"   // a subscribe was accepted, with its filters
	FrameMsg         = "msg"          // one stream message, history or live
	FrameHistoryDone = "history_done" // a subscription's history is complete (or truncated)
	FrameError       = "error"        // a request failed; code and message say why
	FramePong        = "pong"         // the answer to ping
)

// Error codes carried by error frames.
const (
	CodeInvalid  = "invalid"  // the request broke a rule; message says which
	CodeLimit    = "limit"    // a configured limit was reached
	CodeInternal = "internal" // the gateway failed; details are in its log
)

// maxRequestBytes bounds a client's text frame.
const maxRequestBytes = 8 << 10

// maxFilters bounds the subject filters of one subscription.
const maxFilters = 16

// Request is a client's JSON text frame. Subscribe names subjects either as
// Subjects (filters under the prefix, NATS wildcards allowed) or as App, Tier
// and Kinds (each optional; empty means all), never both.
type Request struct {
	Op       string   `json:"op"`
	ID       string   `json:"id"`
	Subjects []string `json:"subjects,omitempty"`
	App      string   `json:"app,omitempty"`
	Tier     string   `json:"tier,omitempty"`
	Kinds    []string `json:"kinds,omitempty"`
	// Since asks for history: messages whose event time (Unix ms) is at or
	// after it, sent before live ones. 0 means live only.
	Since int64 `json:"since,omitempty"`
	// Until, when set, ends the history at this event time (exclusive) and
	// makes the subscription history-only: no live messages follow (replay).
	Until int64 `json:"until,omitempty"`
	// StepMS thins the history: per subject, a message closer than StepMS
	// in event time to the previous one sent is skipped. Live is not thinned.
	StepMS int64 `json:"step_ms,omitempty"`
	// Max lowers the history cap for this subscription below the gateway's.
	Max int `json:"max,omitempty"`
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// subSpec is a validated subscribe request.
type subSpec struct {
	id      string
	filters []filter
	since   int64
	until   int64
	step    int64
	max     int
}

// parseRequest decodes and validates one text frame.
func parseRequest(data []byte) (Request, error) {
	var r Request
	if len(data) > maxRequestBytes {
		return r, fmt.Errorf("request of %d bytes: at most %d", len(data), maxRequestBytes)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("request is not JSON: %w", err)
	}
	switch r.Op {
	case OpSubscribe, OpUnsubscribe:
		if !idRE.MatchString(r.ID) {
			return r, fmt.Errorf("id %q: want 1 to 64 characters of [A-Za-z0-9_.:-]", r.ID)
		}
	case OpPing:
	default:
		return r, fmt.Errorf("op %q: want subscribe, unsubscribe or ping", r.Op)
	}
	return r, nil
}

// subscribeSpec turns a subscribe request into filters and a history window.
func subscribeSpec(prefix string, r Request, maxHistory int) (subSpec, error) {
	s := subSpec{id: r.ID, since: r.Since, until: r.Until, step: r.StepMS, max: maxHistory}
	subjects := r.Subjects
	if len(subjects) > 0 && (r.App != "" || r.Tier != "" || len(r.Kinds) > 0) {
		return s, fmt.Errorf("give subjects or app/tier/kinds, not both")
	}
	if len(subjects) == 0 {
		var err error
		if subjects, err = appSubjects(prefix, r); err != nil {
			return s, err
		}
	}
	if len(subjects) > maxFilters {
		return s, fmt.Errorf("%d subject filters: at most %d", len(subjects), maxFilters)
	}
	for _, raw := range subjects {
		f, err := parseFilter(prefix, raw)
		if err != nil {
			return s, err
		}
		s.filters = append(s.filters, f)
	}
	switch {
	case r.Since < 0 || r.Until < 0 || r.StepMS < 0 || r.Max < 0:
		return s, fmt.Errorf("since, until, step_ms and max must not be negative")
	case r.Until > 0 && r.Since == 0:
		return s, fmt.Errorf("until needs since")
	case r.Until > 0 && r.Until <= r.Since:
		return s, fmt.Errorf("until=%d is not after since=%d", r.Until, r.Since)
	}
	if r.Max > 0 && r.Max < s.max {
		s.max = r.Max
	}
	return s, nil
}

// appSubjects expands app, tier and kinds into subject filters.
func appSubjects(prefix string, r Request) ([]string, error) {
	app, tier := "*", "*"
	if r.App != "" {
		if err := proto.CheckToken("app", r.App); err != nil {
			return nil, err
		}
		app = r.App
	}
	if r.Tier != "" {
		if err := proto.CheckToken("tier", r.Tier); err != nil {
			return nil, err
		}
		tier = r.Tier
	}
	kinds := r.Kinds
	if len(kinds) == 0 {
		for _, k := range proto.Kinds {
			if k != proto.KindDLQ {
				kinds = append(kinds, string(k))
			}
		}
	}
	out := make([]string, 0, len(kinds))
	for _, k := range kinds {
		if !knownKind(proto.Kind(k)) || proto.Kind(k) == proto.KindDLQ {
			return nil, fmt.Errorf("kind %q: want metrics, forecast, anomaly, decision or scaling", k)
		}
		out = append(out, proto.Subject(prefix, proto.Kind(k), app, tier))
	}
	return out, nil
}

// controlFrame is every frame but "msg", encoded by reflection (they are rare).
type controlFrame struct {
	Type      string   `msgpack:"type"`
	Sub       string   `msgpack:"sub,omitempty"`
	Subjects  []string `msgpack:"subjects,omitempty"`
	Count     int      `msgpack:"count,omitempty"`
	Bytes     int64    `msgpack:"bytes,omitempty"`
	Truncated bool     `msgpack:"truncated,omitempty"`
	Reason    string   `msgpack:"reason,omitempty"`
	Code      string   `msgpack:"code,omitempty"`
	Message   string   `msgpack:"message,omitempty"`
	// hello only
	Prefix     string `msgpack:"prefix,omitempty"`
	Version    string `msgpack:"version,omitempty"`
	ServerTime int64  `msgpack:"server_time,omitempty"`
	MaxHistory int    `msgpack:"max_history,omitempty"`
}

// liveMsg is one stream message shared, read-only, by every client it goes to.
// The frame fields all clients share are encoded once, when it is made; the
// payload is kept only inside that encoding.
type liveMsg struct {
	subject string
	stream  string
	seq     uint64
	ts      int64
	tail    []byte // the frame's fields after "sub"
}

type tailEncoder struct {
	buf bytes.Buffer
	enc *msgpack.Encoder
}

var tailPool = sync.Pool{New: func() any {
	t := &tailEncoder{}
	t.enc = msgpack.NewEncoder(&t.buf)
	t.enc.UseCompactInts(true)
	return t
}}

// newLiveMsg makes the shared part of the frames of one stream message.
func newLiveMsg(subject, stream string, seq uint64, ts int64, data []byte) *liveMsg {
	t := tailPool.Get().(*tailEncoder)
	defer tailPool.Put(t)
	t.buf.Reset()
	enc := t.enc
	// Writes to a bytes.Buffer cannot fail.
	_ = enc.EncodeString("subject")
	_ = enc.EncodeString(subject)
	_ = enc.EncodeString("stream")
	_ = enc.EncodeString(stream)
	_ = enc.EncodeString("seq")
	_ = enc.EncodeUint(seq)
	_ = enc.EncodeString("ts")
	_ = enc.EncodeInt(ts)
	_ = enc.EncodeString("data")
	_ = enc.EncodeBytes(data)
	return &liveMsg{subject: subject, stream: stream, seq: seq, ts: ts, tail: bytes.Clone(t.buf.Bytes())}
}

// encodeMsg appends a "msg" frame to buf (enc writes to buf): the map
// header, type and sub, then the tail shared by every client. It is the hot
// path of the fan-out.
func encodeMsg(buf *bytes.Buffer, enc *msgpack.Encoder, sub string, m *liveMsg) error {
	if err := enc.EncodeMapLen(7); err != nil {
		return err
	}
	for _, s := range [...]string{"type", FrameMsg, "sub", sub} {
		if err := enc.EncodeString(s); err != nil {
			return err
		}
	}
	_, err := buf.Write(m.tail)
	return err
}
