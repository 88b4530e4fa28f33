package ingest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/limits"
	"github.com/headroomhq/headroom/proto"
)

// Path is where the push API is served.
const Path = "/api/v1/metrics"

// Publisher stores a batch of validated ticks, returning once every one is
// stored or with the first error.
type Publisher func(ctx context.Context, ticks []*proto.Metrics) error

// BusPublisher publishes ticks on their metrics subjects asynchronously and
// waits for every acknowledgement.
func BusPublisher(b *bus.Bus) Publisher {
	return func(ctx context.Context, ticks []*proto.Metrics) error {
		futures := make([]func() error, 0, len(ticks))
		for _, m := range ticks {
			f, err := b.PublishAsync(bus.Out{Subject: proto.MetricsSubject(b.Prefix(), m.App, m.Tier), Msg: m})
			if err != nil {
				return err
			}
			futures = append(futures, func() error {
				select {
				case <-f.Ok():
					return nil
				case err := <-f.Err():
					return fmt.Errorf("publish %s: %w", m.ID, err)
				case <-ctx.Done():
					return fmt.Errorf("publish %s: %w", m.ID, ctx.Err())
				}
			})
		}
		for _, wait := range futures {
			if err := wait(); err != nil {
				return err
			}
		}
		return nil
	}
}

// Handler serves the push API.
type Handler struct {
	cfg      Config
	publish  Publisher
	now      func() time.Time
	log      zerolog.Logger
	slots    chan struct{}
	accepted prometheus.Counter
	rejected *prometheus.CounterVec
	inFlight prometheus.GaugeFunc
}

// NewHandler returns the push API handler. now is the wall clock the time
// bounds are checked against (time.Now outside tests); reg may be nil.
func NewHandler(cfg Config, publish Publisher, now func() time.Time, log zerolog.Logger, reg prometheus.Registerer) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, publish: publish, now: now, log: log, slots: make(chan struct{}, cfg.MaxConcurrent),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_push_ticks_total", Help: "Ticks accepted by the push API."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_push_rejected_total", Help: "Push requests rejected, by HTTP status."}, []string{"status"}),
	}
	h.inFlight = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "headroom_push_in_flight", Help: "Push requests being handled (at most push.max_concurrent)."},
		func() float64 { return float64(h.InFlight()) })
	if reg != nil {
		for _, c := range []prometheus.Collector{h.accepted, h.rejected, h.inFlight} {
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
// other than POST (405, Allow: POST), a foreign Origin (403), a content
// type other than application/json or application/msgpack, or none (415),
// a missing or wrong token when one is configured (401), and a request
// beyond MaxConcurrent (429, Retry-After). It then decodes the body tick by
// tick within MaxBody (413) and ReadTimeout (408), checks every field
// (400), refuses apps whose configured source is not push (409) and series
// beyond the limits (422), and only then publishes: 202 with
// {"accepted": n} once every tick is stored, 503 when the bus fails. Every
// refusal is a JSON {"error", "field"} and publishes nothing.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, r, &Error{Status: http.StatusMethodNotAllowed, Field: "method", Message: fmt.Sprintf("%s: the push API takes POST only", r.Method)})
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
	if h.cfg.Token != "" {
		got := r.Header.Get("Authorization")
		want := "Bearer " + h.cfg.Token
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="headroom"`)
			msg := "missing bearer token"
			if got != "" {
				msg = "wrong token"
			}
			h.fail(w, r, &Error{Status: http.StatusUnauthorized, Field: "Authorization", Message: msg})
			return
		}
	}
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	default:
		w.Header().Set("Retry-After", "1")
		h.fail(w, r, &Error{Status: http.StatusTooManyRequests, Message: fmt.Sprintf("%d push requests in progress, the limit push.max_concurrent; retry later", h.cfg.MaxConcurrent)})
		return
	}
	if h.cfg.ReadTimeout > 0 {
		// Not every ResponseWriter supports deadlines (httptest's recorder
		// does not); the server's own read timeout still applies then.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.cfg.ReadTimeout))
	}
	body := &readErr{r: http.MaxBytesReader(w, r.Body, h.cfg.MaxBody)}
	batch, perr := Decode(body, format, h.now(), h.cfg)
	if perr != nil {
		h.fail(w, r, body.classify(perr, h.cfg.MaxBody))
		return
	}
	if e := h.admit(batch); e != nil {
		h.fail(w, r, e)
		return
	}
	if err := h.publish(r.Context(), batch.Ticks); err != nil {
		h.log.Error().Err(err).Int("ticks", len(batch.Ticks)).Msg("push not stored")
		h.fail(w, r, &Error{Status: http.StatusServiceUnavailable, Message: "could not store the ticks; retry (ids make a retry safe)"})
		return
	}
	h.accepted.Add(float64(len(batch.Ticks)))
	writeJSON(w, http.StatusAccepted, map[string]int{"accepted": len(batch.Ticks)})
}

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
// same-origin requests (Origin's host:port is the request's Host) and the
// configured origins; any other browser origin is refused.
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
	return &Error{Status: http.StatusForbidden, Field: "Origin", Message: fmt.Sprintf("%q is not this server's origin nor in push.allowed_origins", o)}
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

// admit refuses ticks of apps configured with another source (409), then
// series beyond the limits (422).
func (h *Handler) admit(b *Batch) *Error {
	var keys []limits.Key
	for i, m := range b.Ticks {
		if src, ok := h.cfg.Sources[m.App]; ok && src != config.SourcePush {
			return &Error{Status: http.StatusConflict, Field: join(b.Path(i), "app"),
				Message: fmt.Sprintf("app %s takes its metrics from source %s, not push", m.App, src)}
		}
		k := limits.Key{App: m.App, Tier: m.Tier}
		if n := len(keys); n == 0 || keys[n-1] != k {
			keys = append(keys, k)
		}
	}
	if h.cfg.Series == nil {
		return nil
	}
	if err := h.cfg.Series.AdmitAll(keys); err != nil {
		field := "body"
		var le *limits.Error
		if errors.As(err, &le) {
			i := slices.IndexFunc(b.Ticks, func(m *proto.Metrics) bool { return m.App == le.Series.App && m.Tier == le.Series.Tier })
			field = join(b.Path(i), "tier")
		}
		return &Error{Status: http.StatusUnprocessableEntity, Field: field, Message: err.Error()}
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

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, e *Error) {
	h.rejected.WithLabelValues(fmt.Sprint(e.Status)).Inc()
	h.log.Warn().Int("status", e.Status).Str("field", e.Field).Str("reason", e.Message).Str("remote", r.RemoteAddr).Msg("push rejected")
	writeJSON(w, e.Status, e)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
