package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// OpsMaxConns caps the connections of the ops listener (-ops.addr): room
// for an orchestrator's probes and a few Prometheus scrapers, which open
// a connection or two each.
const OpsMaxConns = 32

// opsPaths are the routes OpsMux serves.
var opsPaths = []string{"/healthz", "/readyz", "/metrics"}

// CheckOpsAddr refuses an ops address that is the HTTP address (or the same
// port on every interface): both listeners cannot bind it, and the point of
// -ops.addr is a listener of its own. An empty opsAddr is always fine.
func CheckOpsAddr(httpAddr, opsAddr string) error {
	if opsAddr == "" {
		return nil
	}
	hh, hp, herr := net.SplitHostPort(httpAddr)
	oh, op, oerr := net.SplitHostPort(opsAddr)
	if herr == nil && oerr == nil && hp == "0" && op == "0" {
		return nil // two ports the system picks
	}
	if opsAddr == httpAddr {
		return fmt.Errorf("ops.addr %q is http.addr: give the ops listener an address of its own, or leave ops.addr empty to serve /healthz, /readyz and /metrics on http.addr", opsAddr)
	}
	if herr != nil || oerr != nil || hp != op {
		return nil
	}
	anyHost := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	if hh == oh || anyHost(hh) || anyHost(oh) {
		return fmt.Errorf("ops.addr %q and http.addr %q share port %s: give the ops listener a port of its own", opsAddr, httpAddr, op)
	}
	return nil
}

// Servers are a process's HTTP listeners: HTTP serves Mux, the service's
// own routes, and Ops, when an ops address is given, serves /healthz,
// /readyz and /metrics alone. Without Ops, Mux serves those three too, as
// OpsMux does.
type Servers struct {
	// Mux is where the parts add their routes (Deps.Mux).
	Mux *http.ServeMux
	// HTTP serves Mux on the HTTP address; nil before Listen.
	HTTP *HTTPServer
	// Ops serves the ops routes on the ops address; nil without one or
	// before Listen.
	Ops *HTTPServer
	// Starting, when set before Listen, holds the HTTP listener's routes
	// until it is Done (Starting.Handler): a process that listens before
	// it has built its parts answers them 503 "starting", not 404. The
	// ops routes answer throughout.
	Starting *Starting

	opsAddr string
	opsMux  *http.ServeMux
}

// NewServers makes the routes of a process's servers, to be bound by
// Listen: with opsAddr "", Mux serves /healthz, /readyz and /metrics
// (OpsMux); otherwise those three are served on opsAddr alone and answer
// 404 on Mux, so the public port carries only the service's routes and a
// client filling its connection cap cannot starve the orchestrator's
// probes.
func NewServers(opsAddr string, ready *Ready, gatherer prometheus.Gatherer) *Servers {
	if opsAddr == "" {
		return &Servers{Mux: OpsMux(ready, gatherer)}
	}
	mux := http.NewServeMux()
	for _, p := range opsPaths {
		// More specific than a part's catch-all "/" (the dashboard), so
		// these stay 404 here whatever the parts add.
		mux.Handle(p, http.NotFoundHandler())
	}
	return &Servers{Mux: mux, opsAddr: opsAddr, opsMux: OpsMux(ready, gatherer)}
}

// ListenServers is NewServers then Listen.
func ListenServers(httpAddr, opsAddr string, ready *Ready, gatherer prometheus.Gatherer, log zerolog.Logger, t Timeouts) (*Servers, error) {
	s := NewServers(opsAddr, ready, gatherer)
	if err := s.Listen(httpAddr, log, t); err != nil {
		return nil, err
	}
	return s, nil
}

// Listen binds httpAddr for Mux, capped and timed by t, and the ops
// address, if any, with t's timeouts and OpsMaxConns connections.
func (s *Servers) Listen(httpAddr string, log zerolog.Logger, t Timeouts) error {
	if err := CheckOpsAddr(httpAddr, s.opsAddr); err != nil {
		return err
	}
	if s.opsAddr != "" {
		ot := t
		ot.MaxConns = OpsMaxConns
		ops, err := ListenTimeouts(s.opsAddr, s.opsMux, log.With().Str("listener", "ops").Logger(), ot)
		if err != nil {
			return fmt.Errorf("ops.addr: %w", err)
		}
		s.Ops = ops
	}
	var h http.Handler = s.Mux
	if s.Starting != nil {
		h = s.Starting.Handler(h)
	}
	srv, err := ListenTimeouts(httpAddr, h, log, t)
	if err != nil {
		if s.Ops != nil {
			_ = s.Ops.ln.Close()
			s.Ops = nil
		}
		return err
	}
	s.HTTP = srv
	return nil
}

// OpsAddr returns the bound ops address, or "" without an ops listener.
func (s *Servers) OpsAddr() string {
	if s.Ops == nil {
		return ""
	}
	return s.Ops.Addr()
}

// Run serves until ctx ends, then shuts the HTTP server down and, once it
// has, the ops server: the probes answer until the very end. If either
// server fails, the other is shut down and the error returned.
func (s *Servers) Run(ctx context.Context) error {
	if s.Ops == nil {
		return s.HTTP.Run(ctx)
	}
	httpCtx, stopHTTP := context.WithCancel(ctx)
	defer stopHTTP()
	opsCtx, stopOps := context.WithCancel(context.Background())
	defer stopOps()
	httpDone, opsDone := make(chan error, 1), make(chan error, 1)
	go func() { httpDone <- s.HTTP.Run(httpCtx) }()
	go func() { opsDone <- s.Ops.Run(opsCtx) }()
	select {
	case err := <-httpDone:
		stopOps()
		return errors.Join(err, <-opsDone)
	case err := <-opsDone:
		stopHTTP()
		return errors.Join(fmt.Errorf("ops: %w", err), <-httpDone)
	}
}
