package service

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"golang.org/x/net/netutil"

	"github.com/headroomhq/headroom/internal/cli"
)

// NewRegistry returns a Prometheus registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// OpsMux returns a mux serving /healthz (the process is up), /readyz (the
// gate is open) and /metrics (gatherer's metrics). Services add their own
// routes to it.
func OpsMux(ready *Ready, gatherer prometheus.Gatherer) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := ready.Err(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	return mux
}

// Timeouts bound how long a client may hold a connection of the HTTP
// server, so slow or stalled clients cannot pile up goroutines and memory,
// and how many connections and header bytes clients may hold. WebSocket
// upgrades are exempt from the timeouts once upgraded: the connection's
// deadlines are cleared when the handler takes it over (not when a
// request merely asks for an upgrade), and the
// WebSocket code (gateway) keeps its own ping-based deadlines; they count
// among MaxConns.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers.
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included.
	Read time.Duration
	// Write bounds the time from the end of the headers to the end of
	// the response.
	Write time.Duration
	// Idle bounds how long a keep-alive connection waits for its next
	// request.
	Idle time.Duration
	// MaxConns bounds the connections open at once, WebSocket ones
	// included (0: DefaultMaxConns). Past it the server accepts no more
	// until one closes: new ones wait in the kernel's backlog, so a flood
	// of connections costs the process nothing.
	MaxConns int
	// MaxHeaderBytes bounds a request's headers (0: DefaultMaxHeaderBytes;
	// Go's server allows 4 KiB more); larger ones get 431.
	MaxHeaderBytes int
}

// DefaultMaxConns is the connection cap unless set: room for
// gateway.max-clients' 1000 WebSocket clients and as many plain ones.
const DefaultMaxConns = 2048

// DefaultMaxHeaderBytes is the header cap unless set: far above the
// headers of a push or a browser's request, far below Go's 1 MiB.
const DefaultMaxHeaderBytes = 32 << 10

// DefaultTimeouts allow 10 s for headers, 30 s for a request, 60 s for
// a response and 120 s of keep-alive idleness, DefaultMaxConns
// connections and DefaultMaxHeaderBytes of headers.
func DefaultTimeouts() Timeouts {
	return Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 60 * time.Second, Idle: 120 * time.Second,
		MaxConns: DefaultMaxConns, MaxHeaderBytes: DefaultMaxHeaderBytes}
}

// RegisterFlags adds -http.read-header-timeout, -http.read-timeout,
// -http.write-timeout, -http.idle-timeout, -http.max-conns and
// -http.max-header-bytes.
func (t *Timeouts) RegisterFlags(f *cli.Flags) {
	d := DefaultTimeouts()
	f.Duration(&t.ReadHeader, "http.read-header-timeout", d.ReadHeader, "time to read a request's headers")
	f.Duration(&t.Read, "http.read-timeout", d.Read, "time to read a whole request, body included")
	f.Duration(&t.Write, "http.write-timeout", d.Write, "time to write a response (WebSocket connections are exempt once upgraded)")
	f.Duration(&t.Idle, "http.idle-timeout", d.Idle, "time a keep-alive connection may wait for its next request")
	f.Int(&t.MaxConns, "http.max-conns", d.MaxConns, "connections open at once, WebSocket ones included (more wait to be accepted)")
	f.Int(&t.MaxHeaderBytes, "http.max-header-bytes", d.MaxHeaderBytes, "bytes of a request's headers (431 beyond)")
}

// Validate checks that every timeout is positive and no cap negative.
func (t Timeouts) Validate() error {
	if t.ReadHeader <= 0 || t.Read <= 0 || t.Write <= 0 || t.Idle <= 0 {
		return fmt.Errorf("http timeouts %+v: want every one positive", t)
	}
	if t.MaxConns < 0 || t.MaxHeaderBytes < 0 {
		return fmt.Errorf("http.max-conns=%d, http.max-header-bytes=%d: want 0 (the default) or more", t.MaxConns, t.MaxHeaderBytes)
	}
	return nil
}

// HTTPServer is an HTTP server bound to a listener before Run, so callers
// (and tests using ":0") know its address at once.
type HTTPServer struct {
	srv *http.Server
	ln  net.Listener
	log zerolog.Logger
}

// Listen binds addr and returns a server for h with DefaultTimeouts.
func Listen(addr string, h http.Handler, log zerolog.Logger) (*HTTPServer, error) {
	return ListenTimeouts(addr, h, log, DefaultTimeouts())
}

// ListenTimeouts binds addr and returns a server for h with the given
// timeouts and caps.
func ListenTimeouts(addr string, h http.Handler, log zerolog.Logger, t Timeouts) (*HTTPServer, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	conns, header := t.MaxConns, t.MaxHeaderBytes
	if conns == 0 {
		conns = DefaultMaxConns
	}
	if header == 0 {
		header = DefaultMaxHeaderBytes
	}
	return &HTTPServer{
		srv: &http.Server{Handler: upgradeExempt(h), ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write, IdleTimeout: t.Idle,
			MaxHeaderBytes: header},
		ln: netutil.LimitListener(ln, conns), log: log,
	}, nil
}

// upgradeExempt lifts the read and write deadlines the server set on a
// connection asking for a WebSocket upgrade once its handler takes the
// connection over (hijacks it, as an accepted upgrade does), so a
// long-lived upgraded connection is not cut by the request timeouts; the
// WebSocket code sets its own deadlines from then on. Asking is not
// enough: a request the handler answers without upgrading (a refused
// token or Origin, the page, an API) keeps every timeout, or a client
// adding the headers could hold a connection for ever by never sending
// its body or never reading the answer.
func upgradeExempt(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") && headerHasToken(r.Header, "Connection", "upgrade") {
			w = liftOnHijack{w}
		}
		h.ServeHTTP(w, r)
	})
}

// liftOnHijack clears the connection's deadlines when the handler hijacks
// it; everything else passes to the ResponseWriter it wraps (Unwrap, for
// http.ResponseController).
type liftOnHijack struct{ http.ResponseWriter }

// Hijack takes the connection over and clears its deadlines.
func (l liftOnHijack) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(l.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		_ = conn.Close()
		return nil, nil, fmt.Errorf("clear deadlines of the hijacked connection: %w", err)
	}
	return conn, brw, nil
}

// Unwrap returns the wrapped ResponseWriter.
func (l liftOnHijack) Unwrap() http.ResponseWriter { return l.ResponseWriter }

// headerHasToken reports whether a comma-separated header holds token.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// Addr returns the bound address.
func (s *HTTPServer) Addr() string { return s.ln.Addr().String() }

// Run serves until ctx ends, then shuts down, giving open requests 5 seconds.
func (s *HTTPServer) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	s.log.Info().Str("addr", s.Addr()).Msg("http listening")
	select {
	case err := <-errc:
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("http shutdown: %w", err)
	}
	<-errc
	return nil
}
