package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/clientaddr"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/hostcheck"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/internal/redact"
	"github.com/headroomhq/headroom/proto"
)

// Path is where the push API is served.
const Path = "/api/v1/metrics"

// Publisher stores the ticks of a checked request, returning once every
// one is stored or with the first error. ticks yields them one at a time,
// decoded again from the request's bytes, so a publisher that does not
// keep them holds one tick at a time rather than the whole batch.
type Publisher func(ctx context.Context, ticks iter.Seq[*proto.Metrics]) error

// BusPublisher publishes ticks on their metrics subjects asynchronously and
// waits for every acknowledgement; it keeps only each tick's id meanwhile.
func BusPublisher(b *bus.Bus) Publisher {
	return func(ctx context.Context, ticks iter.Seq[*proto.Metrics]) error {
		type pending struct {
			id string
			f  bus.PubAckFuture
		}
		var futures []pending
		for m := range ticks {
			f, err := b.PublishAsync(bus.Out{Subject: proto.MetricsSubject(b.Prefix(), m.App, m.Tier), Msg: m})
			if err != nil {
				return fmt.Errorf("publish %s: %w", m.ID, err)
			}
			futures = append(futures, pending{id: m.ID, f: f})
		}
		for _, p := range futures {
			select {
			case <-p.f.Ok():
			case err := <-p.f.Err():
				return fmt.Errorf("publish %s: %w", p.id, err)
			case <-ctx.Done():
				return fmt.Errorf("publish %s: %w", p.id, ctx.Err())
			}
		}
		return nil
	}
}

// Handler serves the push API.
type Handler struct {
	cfg     Config
	publish Publisher
	now     func() time.Time
	log     zerolog.Logger
	// rejectLogs log refusals, one sampled logger per HTTP status and
	// reason (at most rejectBurst lines in each rejectPeriod each), so a
	// flood of one kind (400s, a blocked guesser's 429s) does not hide
	// another (a 401, a token's 429 for its rate, a 422 at the limits, a
	// 503 when NATS cannot store). Reasons are the code's own (Refusals),
	// so the loggers are few.
	rejectMu   sync.Mutex
	rejectLogs map[refusal]zerolog.Logger
	slots      chan struct{}
	// senders are the tokens, anon the one sender when none is set.
	senders []*sender
	anon    *sender
	// auth limits failed authentications per client; nil without a
	// token or with AuthFailLimit 0.
	auth *authGuard
	// fwd reads the client from the forwarding header (X-Forwarded-For
	// or Forwarded) of the trusted proxies; unreadable counts the
	// headers from them that could not be read, forwardLog logs them,
	// sampled as the refusals are.
	fwd        clientaddr.Forwarding
	unreadable prometheus.Counter
	forwardLog zerolog.Logger
	// perSender is how many requests one sender may have in progress
	// when there are several: half of MaxConcurrent (at least 1), so that
	// one token's slow bodies cannot lock the others out; 0 with one
	// sender, which MaxConcurrent alone bounds.
	perSender int32
	accepted  prometheus.Counter
	rejected  *prometheus.CounterVec
	inFlight  prometheus.GaugeFunc
}

// NewHandler returns the push API handler. now is the wall clock the time
// bounds are checked against (time.Now outside tests); reg may be nil.
func NewHandler(cfg Config, publish Publisher, now func() time.Time, log zerolog.Logger, reg prometheus.Registerer) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, publish: publish, now: now, log: log, slots: make(chan struct{}, cfg.MaxConcurrent),
		rejectLogs: map[refusal]zerolog.Logger{},
		accepted:   prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_push_ticks_total", Help: "Ticks accepted by the push API."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_push_rejected_total",
			Help: "Push requests rejected, by HTTP status and reason (see ingest.Refusals)."}, []string{"status", "reason"}),
	}
	h.senders, h.anon = cfg.senders()
	fwd, err := clientaddr.NewForwarding(cfg.TrustedProxies, cfg.ForwardedHeader)
	if err != nil {
		return nil, fmt.Errorf("push %w", err)
	}
	h.fwd = fwd
	h.unreadable = prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_push_forwarded_unreadable_total",
		Help: "Push requests from a trusted proxy whose forwarding header (X-Forwarded-For, or Forwarded as configured) could not be read: the proxy is taken as their client, its address counting their failed authentications when those are limited."})
	h.forwardLog = log.Sample(&zerolog.BurstSampler{Burst: rejectBurst, Period: rejectPeriod})
	if h.anon == nil {
		h.auth = newAuthGuard(cfg.AuthFailLimit, cfg.AuthFailBurst, cfg.AuthFailAddrs)
	}
	if len(h.senders) > 1 {
		h.perSender = int32(max(1, cfg.MaxConcurrent/2))
	}
	// Every refusal's series exists from the start, at 0, so that a rule
	// on increase() sees the first rejection (a series appearing at 1
	// increases by nothing).
	for _, r := range Refusals {
		h.rejected.WithLabelValues(fmt.Sprint(r.Status), r.Reason)
	}
	h.inFlight = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "headroom_push_in_flight", Help: "Push requests being handled (at most push.max_concurrent)."},
		func() float64 { return float64(h.InFlight()) })
	if reg != nil {
		for _, c := range []prometheus.Collector{h.accepted, h.rejected, h.inFlight, h.unreadable} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("push metrics: %w", err)
			}
		}
	}
	return h, nil
}

// InFlight returns how many requests hold one of the MaxConcurrent slots.
func (h *Handler) InFlight() int { return len(h.slots) }

// Register mounts the handler on mux at Path, for every method: other
// methods than POST are answered 405 here, with a JSON error.
func (h *Handler) Register(mux *http.ServeMux) { mux.Handle(Path, h) }

// ServeHTTP refuses, in this order and before reading the body: a method
// other than POST (405, Allow: POST), a Host not allowed (403, see
// Config.AllowedHosts), a foreign Origin (403), a content
// type other than application/json or application/msgpack, or none (415),
// a client address with no failed authentication left (429, Retry-After;
// see Config.AuthFailLimit), a missing or wrong token when one is
// configured (401, counted against the client's address), a sender with no
// tick left in its rate limit (429, Retry-After), a Content-Length over
// MaxBody (413) and a request beyond MaxConcurrent, or beyond half of it
// from one of several tokens (429, Retry-After).
// It then decodes the body tick by tick as it arrives, within MaxBody (413)
// and ReadTimeout (408), checks every field (400), refuses a tick of an app
// the token may not push for (403: the whole request), apps whose
// configured source is not push (409), more ticks than the sender's rate
// limit allows now (429, Retry-After: when they would pass) or ever at
// once (413), and series beyond the limits (422), and only then decodes
// the kept bytes again to publish: 202 with
// {"accepted": n} once every tick is stored, 503 when the bus fails. Every
// refusal is a JSON {"error", "field"} and publishes nothing.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, r, &Error{Status: http.StatusMethodNotAllowed, Field: "method", Message: fmt.Sprintf("%s: the push API takes POST only", r.Method)})
		return
	}
	if !hostcheck.Allowed(r, h.cfg.AllowedHosts) {
		h.fail(w, r, &Error{Status: http.StatusForbidden, Field: "Host", Message: fmt.Sprintf("host %q not allowed: add it to the push API's allowed hosts (-push.allowed-hosts, or -gateway.allowed-hosts on the all-in-one)", r.Host)})
		return
	}
	if e := h.checkOrigin(r); e != nil {
		h.fail(w, r, e)
		return
	}
	format, e := contentType(r.Header.Get("Content-Type"))
	if e != nil {
		h.fail(w, r, e)
		return
	}
	// client is whose failures count, with a failed-authentication
	// limit; it is read without one too, so that a trusted proxy's
	// unreadable header is counted and logged whether the limit is on or
	// not (an operator turning it on should not be the first to learn).
	client := h.client(r)
	if h.auth != nil {
		// A blocked client is refused whatever it sends, the right token
		// included: otherwise its guesses would go on being answered.
		if b, blocked := h.auth.blocked(client, h.now()); blocked {
			w.Header().Set("Retry-After", retryAfter(b.wait))
			h.fail(w, r, &Error{Status: http.StatusTooManyRequests, Field: "Authorization", Reason: "auth_rate",
				Message: fmt.Sprintf("too many failed authentications from %s (%d in a row, then %g a second): every request from it is refused meanwhile, one with the right token too; retry in %v",
					b.who(), b.burst, b.limit, b.wait.Round(time.Millisecond))})
			return
		}
	}
	from, e := h.authenticate(r.Header.Get("Authorization"))
	if e != nil {
		if h.auth != nil {
			h.auth.failed(client, h.now())
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="headroom"`)
		h.fail(w, r, e)
		return
	}
	if from.lim != nil {
		// A sender out of ticks is refused before its body is read, so a
		// flood costs no decoding.
		if tokens := from.lim.TokensAt(h.now()); tokens < 1 {
			h.refuseRate(w, r, from, seconds((1-tokens)/float64(from.lim.Limit())), 0)
			return
		}
	}
	if r.ContentLength > h.cfg.MaxBody {
		h.failFrom(w, r, from, &Error{Status: http.StatusRequestEntityTooLarge, Field: "body", Message: fmt.Sprintf("Content-Length %d: larger than %d bytes", r.ContentLength, h.cfg.MaxBody)})
		return
	}
	if n := from.inFlight.Add(1); h.perSender > 0 && n > h.perSender {
		// One sender's slow bodies must not take every slot from the
		// others: with several tokens each holds at most half of them.
		from.inFlight.Add(-1)
		w.Header().Set("Retry-After", "1")
		h.failFrom(w, r, from, &Error{Status: http.StatusTooManyRequests, Reason: "sender_concurrency",
			Message: fmt.Sprintf("%s has %d push requests in progress, the most one token may while several are set (half of push.max_concurrent %d); retry later", from.what(), h.perSender, h.cfg.MaxConcurrent)})
		return
	}
	defer from.inFlight.Add(-1)
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		w.Header().Set("Retry-After", "1")
		h.failFrom(w, r, from, &Error{Status: http.StatusTooManyRequests, Reason: "concurrency", Message: fmt.Sprintf("%d push requests in progress, the limit push.max_concurrent; retry later", h.cfg.MaxConcurrent)})
		return
	}
	if h.cfg.ReadTimeout > 0 {
		// Not every ResponseWriter supports deadlines (httptest's recorder
		// does not); the server's own read timeout still applies then.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.cfg.ReadTimeout))
	}
	// The body is checked as it arrives, its bytes kept (at most MaxBody)
	// and decoded again to publish, so no request holds its decoded ticks.
	raw := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, 0), h.cfg.MaxBody)))
	body := &readErr{r: http.MaxBytesReader(w, r.Body, h.cfg.MaxBody)}
	now := h.now()
	seen := map[limits.Key]string{} // series → path of its first tick
	var keys []limits.Key
	n := 0
	check := func(_ int, path string, m *proto.Metrics) *Error {
		if !from.allows(m.App) {
			return &Error{Status: http.StatusForbidden, Field: join(path, "app"), Reason: "scope",
				Message: fmt.Sprintf("token %s may not push for app %s", from.name, m.App)}
		}
		if src, ok := h.cfg.Sources[m.App]; ok && src != config.SourcePush {
			return &Error{Status: http.StatusConflict, Field: join(path, "app"),
				Message: fmt.Sprintf("app %s takes its metrics from source %s, not push", m.App, src)}
		}
		if k := (limits.Key{App: m.App, Tier: m.Tier}); !hasKey(seen, k) {
			seen[k] = path
			keys = append(keys, k)
		}
		n++
		return nil
	}
	var perr *Error
	if format == MsgPack {
		if _, err := raw.ReadFrom(body); err != nil {
			perr = bad("body", "read: %v", err)
		} else {
			_, perr = scanMsgpack(raw.Bytes(), now, h.cfg, check)
		}
	} else {
		_, perr = scanJSON(io.TeeReader(body, raw), now, h.cfg, check)
	}
	if perr != nil {
		h.failFrom(w, r, from, body.classify(perr, h.cfg.MaxBody))
		return
	}
	var spent *rate.Reservation
	at := h.now()
	if from.lim != nil {
		if n > from.lim.Burst() {
			h.failFrom(w, r, from, &Error{Status: http.StatusRequestEntityTooLarge, Field: "body", Reason: "burst",
				Message: fmt.Sprintf("%d ticks in one request, more than the %d %s may push at once: split it", n, from.lim.Burst(), from.what())})
			return
		}
		spent = from.lim.ReserveN(at, n)
		if wait := spent.DelayFrom(at); wait > 0 {
			spent.CancelAt(at)
			h.refuseRate(w, r, from, wait, n)
			return
		}
	}
	// giveBack returns the ticks of a request that handed none to the
	// store to its sender's allowance. It cancels at the reservation's own
	// time: rate.Reservation.CancelAt restores nothing at a later time
	// (the reservation has acted by then), and the wall clock has moved
	// on. Ticks handed to the store are spent whatever the answer (a
	// failed acknowledgement, a client that hung up): they may be stored,
	// and giving them back would let a sender push past its rate by
	// hanging up once its body is sent.
	published := 0
	giveBack := func() {
		if spent != nil && published == 0 {
			spent.CancelAt(at)
		}
	}
	if e := h.admit(keys, seen, now); e != nil {
		giveBack()
		h.failFrom(w, r, from, e)
		return
	}
	ticks := func(yield func(*proto.Metrics) bool) {
		stop := &Error{}
		each := func(_ int, _ string, m *proto.Metrics) *Error {
			published++
			if !yield(m) {
				return stop
			}
			return nil
		}
		if format == MsgPack {
			_, _ = scanMsgpack(raw.Bytes(), now, h.cfg, each)
		} else {
			_, _ = scanJSON(bytes.NewReader(raw.Bytes()), now, h.cfg, each)
		}
	}
	if err := h.publish(r.Context(), ticks); err != nil {
		giveBack()
		if r.Context().Err() != nil {
			// The pusher hung up before its ticks were known stored: not
			// the store's failure. Counted apart (nginx's 499), so that
			// an alert on 503 means NATS could not store.
			h.rejected.WithLabelValues(fmt.Sprint(statusClientClosed), reasonOf(statusClientClosed, "")).Inc()
			l := h.rejectLog(statusClientClosed, "")
			l.Info().Err(err).Str("sender", from.name).Int("ticks", n).Stringers("series", stringers(keys)).Int("series_count", len(keys)).
				Str("remote", r.RemoteAddr).Msg("push abandoned by its client before its ticks were known stored; a retry is safe")
			return
		}
		l := h.rejectLog(http.StatusServiceUnavailable, "")
		l.Error().Err(err).Str("sender", from.name).Int("ticks", n).Stringers("series", stringers(keys)).Int("series_count", len(keys)).
			Msg("push not stored")
		h.failFrom(w, r, from, &Error{Status: http.StatusServiceUnavailable, Message: "could not store the ticks; retry (ids make a retry safe)"})
		return
	}
	if published != n {
		// The same bytes decode the same way; this cannot happen.
		h.log.Error().Int("checked", n).Int("published", published).Stringers("series", stringers(keys)).Msg("push decoded differently twice")
	}
	h.accepted.Add(float64(n))
	writeJSON(w, http.StatusAccepted, map[string]int{"accepted": n})
}

// statusClientClosed labels pushes whose client went away before their
// ticks were known stored (no answer is sent).
const statusClientClosed = 499

// contentType accepts application/json and application/msgpack, with any
// parameters. Everything else is refused, the form and text types a
// browser may send cross-site without asking first included.
func contentType(ct string) (Format, *Error) {
	if ct == "" {
		return 0, &Error{Status: http.StatusUnsupportedMediaType, Field: "Content-Type", Message: "missing: want application/json or application/msgpack"}
	}
	mt, _, err := mime.ParseMediaType(ct)
	switch {
	case err != nil:
		return 0, &Error{Status: http.StatusUnsupportedMediaType, Field: "Content-Type", Message: fmt.Sprintf("%q: %v", ct, err)}
	case mt == "application/json":
		return JSON, nil
	case mt == "application/msgpack":
		return MsgPack, nil
	}
	return 0, &Error{Status: http.StatusUnsupportedMediaType, Field: "Content-Type", Message: fmt.Sprintf("%q: want application/json or application/msgpack", mt)}
}

// checkOrigin lets through requests without Origin (not from a browser),
// same-origin requests (Origin's host:port is the request's Host, which
// ServeHTTP has already found allowed) and the configured origins; any
// other browser origin is refused.
func (h *Handler) checkOrigin(r *http.Request) *Error {
	o := r.Header.Get("Origin")
	if o == "" {
		return nil
	}
	if slices.Contains(h.cfg.AllowedOrigins, strings.ToLower(o)) {
		return nil
	}
	u, err := url.Parse(o)
	if err == nil && u.Host != "" && hostPort(u.Host, u.Scheme == "https") == hostPort(r.Host, r.TLS != nil) {
		return nil
	}
	return &Error{Status: http.StatusForbidden, Field: "Origin", Reason: "origin", Message: fmt.Sprintf("%q is not this server's origin nor in push.allowed_origins", o)}
}

// hostPort lower-cases host and adds the scheme's default port.
func hostPort(host string, tls bool) string {
	host = strings.ToLower(host)
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if tls {
		return net.JoinHostPort(strings.Trim(host, "[]"), "443")
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), "80")
}

func hasKey(m map[limits.Key]string, k limits.Key) bool {
	_, ok := m[k]
	return ok
}

// admit refuses a request bringing series beyond the limits (422), naming
// the first tick of the refused series.
func (h *Handler) admit(keys []limits.Key, paths map[limits.Key]string, now time.Time) *Error {
	if h.cfg.Series == nil {
		return nil
	}
	if err := h.cfg.Series.AdmitAll(keys, now); err != nil {
		var le *limits.Error
		if errors.As(err, &le) {
			return &Error{Status: http.StatusUnprocessableEntity, Field: join(paths[le.Series], "tier"), Message: err.Error()}
		}
		return &Error{Status: http.StatusUnprocessableEntity, Field: "body", Message: err.Error()}
	}
	return nil
}

// readErr remembers the first error reading the body other than EOF, so a
// decoding failure caused by it is answered for what it is.
type readErr struct {
	r   io.Reader
	err error
}

func (b *readErr) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// classify turns a decoding error caused by reading into 413 (too large),
// 408 (too slow) or 400 (broken connection).
func (b *readErr) classify(perr *Error, maxBody int64) *Error {
	if b.err == nil {
		return perr
	}
	var tooBig *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(b.err, &tooBig):
		return &Error{Status: http.StatusRequestEntityTooLarge, Field: "body", Message: fmt.Sprintf("larger than %d bytes", maxBody)}
	case errors.Is(b.err, os.ErrDeadlineExceeded), errors.As(b.err, &netErr) && netErr.Timeout():
		return &Error{Status: http.StatusRequestTimeout, Field: "body", Message: "not received in time"}
	}
	return &Error{Status: http.StatusBadRequest, Field: "body", Message: fmt.Sprintf("read: %v", b.err)}
}

// The refusals logged: at most rejectBurst warnings in each rejectPeriod,
// each quoting at most rejectQuote bytes of the field and of the reason
// (both may carry what the sender chose: a Host, an Origin, a key).
// headroom_push_rejected_total counts every refusal; the log shows
// examples, so a flood of bad requests cannot turn into a flood of log.
const (
	rejectBurst  = 10
	rejectPeriod = 10 * time.Second
	rejectQuote  = 256
)

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, e *Error) { h.failFrom(w, r, nil, e) }

// failFrom answers a refusal of a request from a known sender (nil before
// the token is checked), naming the sender in the log, never its token.
func (h *Handler) failFrom(w http.ResponseWriter, r *http.Request, from *sender, e *Error) {
	reason := reasonOf(e.Status, e.Reason)
	h.rejected.WithLabelValues(fmt.Sprint(e.Status), reason).Inc()
	l := h.rejectLog(e.Status, reason)
	if ev := l.Warn(); ev.Enabled() {
		ev = ev.Int("status", e.Status).Str("refusal", reason).Str("field", clip(e.Field)).Str("reason", clip(e.Message)).Str("remote", r.RemoteAddr)
		// Behind a trusted proxy, remote is the proxy: client is whom
		// X-Forwarded-For names, whose failed authentications count.
		if _, a, forwarded, _ := h.forwarded(r); forwarded {
			ev = ev.Str("client", a.String())
		}
		if from != nil {
			ev = ev.Str("sender", from.name)
		}
		ev.Msg("push rejected")
	}
	writeJSON(w, e.Status, e)
}

// refuseRate answers 429 to a sender beyond its rate limit, with the
// whole seconds until its request of n ticks (0: before the body is read,
// the first tick) would pass as Retry-After.
func (h *Handler) refuseRate(w http.ResponseWriter, r *http.Request, from *sender, wait time.Duration, n int) {
	w.Header().Set("Retry-After", retryAfter(wait))
	msg := fmt.Sprintf("%s is beyond its rate limit of %g ticks a second (bursts of %d); retry in %v", from.what(), float64(from.lim.Limit()), from.lim.Burst(), wait.Round(time.Millisecond))
	if n > 0 {
		msg = fmt.Sprintf("%d ticks: %s", n, msg)
	}
	h.failFrom(w, r, from, &Error{Status: http.StatusTooManyRequests, Reason: "rate", Message: msg})
}

// Refusals lists every (status, reason) of headroom_push_rejected_total.
// A reason names what was refused where a status covers several: a 403
// for the Host, the Origin or a token's scope, a 413 for the body's size
// or a token's burst, a 429 for the concurrent requests, a token's rate or
// a client's failed authentications.
var Refusals = []struct {
	Status int
	Reason string
}{
	{http.StatusBadRequest, "invalid"}, {http.StatusUnauthorized, "token"},
	{http.StatusForbidden, "host"}, {http.StatusForbidden, "origin"}, {http.StatusForbidden, "scope"},
	{http.StatusMethodNotAllowed, "method"}, {http.StatusRequestTimeout, "timeout"}, {http.StatusConflict, "source"},
	{http.StatusRequestEntityTooLarge, "size"}, {http.StatusRequestEntityTooLarge, "burst"},
	{http.StatusUnsupportedMediaType, "content_type"}, {http.StatusUnprocessableEntity, "series_limit"},
	{http.StatusTooManyRequests, "concurrency"}, {http.StatusTooManyRequests, "sender_concurrency"}, {http.StatusTooManyRequests, "rate"},
	{http.StatusTooManyRequests, "auth_rate"},
	{statusClientClosed, "client_closed"}, {http.StatusServiceUnavailable, "store"},
}

// reasonOf is the reason label of a refusal: its own, else the first
// listed for its status in Refusals.
func reasonOf(status int, reason string) string {
	if reason != "" {
		return reason
	}
	for _, r := range Refusals {
		if r.Status == status {
			return r.Reason
		}
	}
	return "other"
}

// refusal keys the sampled loggers of refusals.
type refusal struct {
	status int
	reason string
}

// rejectLog returns the sampled logger of refusals with status and reason
// (reasonOf: "" is the status's first).
func (h *Handler) rejectLog(status int, reason string) *zerolog.Logger {
	k := refusal{status, reasonOf(status, reason)}
	h.rejectMu.Lock()
	defer h.rejectMu.Unlock()
	l, ok := h.rejectLogs[k]
	if !ok {
		l = h.log.Sample(&zerolog.BurstSampler{Burst: rejectBurst, Period: rejectPeriod})
		h.rejectLogs[k] = l
	}
	return &l
}

// clip cuts s to rejectQuote bytes, marking the cut.
func clip(s string) string { return redact.Clip(s, rejectQuote) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// stringers lists keys for a log line about the push that carried them,
// naming at most the first 10 series.
func stringers(keys []limits.Key) []fmt.Stringer {
	out := make([]fmt.Stringer, 0, min(len(keys), 10))
	for _, k := range keys[:min(len(keys), 10)] {
		out = append(out, k)
	}
	return out
}
