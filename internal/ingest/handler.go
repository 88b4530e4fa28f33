package ingest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/bus"
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
	accepted prometheus.Counter
	rejected *prometheus.CounterVec
}

// NewHandler returns the push API handler. now is the wall clock the time
// bounds are checked against (time.Now outside tests); reg may be nil.
func NewHandler(cfg Config, publish Publisher, now func() time.Time, log zerolog.Logger, reg prometheus.Registerer) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, publish: publish, now: now, log: log,
		accepted: prometheus.NewCounter(prometheus.CounterOpts{Name: "headroom_push_ticks_total", Help: "Ticks accepted by the push API."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "headroom_push_rejected_total", Help: "Push requests rejected, by HTTP status."}, []string{"status"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{h.accepted, h.rejected} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("push metrics: %w", err)
			}
		}
	}
	return h, nil
}

// Register mounts the handler on mux at POST Path.
func (h *Handler) Register(mux *http.ServeMux) { mux.Handle("POST "+Path, h) }

// ServeHTTP checks the token, the content type (JSON unless it says
// msgpack; no type, or curl's default form type, is read as JSON) and the
// size, parses and
// validates the whole body, then publishes: 202 with {"accepted": n} once
// every tick is stored; 4xx with {"error", "field"} and nothing published
// for a bad request; 503 when the bus fails.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	format := JSON
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			h.fail(w, r, &Error{Status: http.StatusUnsupportedMediaType, Field: "Content-Type", Message: fmt.Sprintf("%q: %v", ct, err)})
			return
		case mt == "application/json", mt == "application/x-www-form-urlencoded":
			// The latter is what curl -d sends by default; the body is still
			// read as JSON.
		case mt == "application/msgpack" || mt == "application/x-msgpack" || mt == "application/vnd.msgpack":
			format = MsgPack
		default:
			h.fail(w, r, &Error{Status: http.StatusUnsupportedMediaType, Field: "Content-Type", Message: fmt.Sprintf("%q: want application/json or application/msgpack", mt)})
			return
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.fail(w, r, &Error{Status: http.StatusRequestEntityTooLarge, Field: "body", Message: fmt.Sprintf("larger than %d bytes", h.cfg.MaxBody)})
			return
		}
		h.fail(w, r, &Error{Status: http.StatusBadRequest, Field: "body", Message: fmt.Sprintf("read: %v", err)})
		return
	}
	ticks, perr := Parse(body, format, h.now(), h.cfg)
	if perr != nil {
		h.fail(w, r, perr)
		return
	}
	if err := h.publish(r.Context(), ticks); err != nil {
		h.log.Error().Err(err).Int("ticks", len(ticks)).Msg("push not stored")
		h.fail(w, r, &Error{Status: http.StatusServiceUnavailable, Message: "could not store the ticks; retry (ids make a retry safe)"})
		return
	}
	h.accepted.Add(float64(len(ticks)))
	writeJSON(w, http.StatusAccepted, map[string]int{"accepted": len(ticks)})
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
