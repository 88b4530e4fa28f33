package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// ServiceHealth is one service in the /api/v1/health answer.
type ServiceHealth struct {
	Name string `json:"name"`
	// Up: a consumer of the service is pulling (or working on) messages;
	// for the collector, a tick arrived within StaleAfter.
	Up bool `json:"up"`
	// Lag is the messages waiting for the service's consumers (pending
	// plus unacknowledged); absent for the collector.
	Lag *uint64 `json:"lag,omitempty"`
	// EventLagMS is how far, in event time, the oldest message the service
	// has yet to acknowledge is behind the newest on the same consumer's
	// subjects (a group member's partition), over its consumers with
	// messages still to handle (0 when all are caught up).
	EventLagMS *int64 `json:"event_lag_ms,omitempty"`
	// LastEvent is the event time (Unix ms) of the service's newest output.
	LastEvent int64  `json:"last_event"`
	Detail    string `json:"detail,omitempty"`
}

// HealthResponse is the /api/v1/health answer: the pipeline, service by service.
type HealthResponse struct {
	ServerTime int64           `json:"server_time"`
	Services   []ServiceHealth `json:"services"`
}

// pipeline lists each service with the stream it writes and its durable
// consumers (stream kind, durable name).
var pipeline = []struct {
	name   string
	output proto.Kind
	inputs []struct {
		kind    proto.Kind
		durable string
	}
}{
	{name: "collector", output: proto.KindMetrics},
	{name: "forecaster", output: proto.KindForecast, inputs: []struct {
		kind    proto.Kind
		durable string
	}{{proto.KindMetrics, "forecaster"}}},
	{name: "anomaly", output: proto.KindAnomaly, inputs: []struct {
		kind    proto.Kind
		durable string
	}{{proto.KindMetrics, "anomaly"}}},
	{name: "decider", output: proto.KindDecision, inputs: []struct {
		kind    proto.Kind
		durable string
	}{{proto.KindMetrics, "decider-metrics"}, {proto.KindForecast, "decider-forecast"}, {proto.KindAnomaly, "decider-anomaly"}}},
	{name: "executor", output: proto.KindScaling, inputs: []struct {
		kind    proto.Kind
		durable string
	}{{proto.KindDecision, "executor"}}},
}

func (g *Gateway) serveHealth(w http.ResponseWriter, r *http.Request) {
	if !g.checkToken(r, "health") {
		g.metrics.apiRequests.WithLabelValues("health", resultToken).Inc()
		client, forwarded := g.forwardedClient(r)
		g.refuseToken(w, r, "health", client, forwarded)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	resp := g.health(ctx)
	g.metrics.apiRequests.WithLabelValues("health", resultOK).Inc()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(resp)
}

// newestEvent is the event time of a stream's newest message (0: none).
func (g *Gateway) newestEvent(ctx context.Context, k proto.Kind) (int64, error) {
	s, err := g.bus.Reader(ctx, k)
	if err != nil {
		return 0, err
	}
	m, err := s.Newest(ctx)
	if errors.Is(err, bus.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return m.EventTime(), nil
}

func (g *Gateway) health(ctx context.Context) HealthResponse {
	now := time.Now()
	resp := HealthResponse{ServerTime: now.UnixMilli()}
	for _, p := range pipeline {
		ts, err := g.newestEvent(ctx, p.output)
		sh := ServiceHealth{Name: p.name, LastEvent: ts}
		if err != nil {
			sh.Detail = fmt.Sprintf("stream: %v", err)
		}
		if len(p.inputs) == 0 {
			sh.Up = ts > 0 && now.Sub(proto.Time(ts)) <= StaleAfter
			if !sh.Up {
				sh.Detail = "no tick in the last " + StaleAfter.String()
			}
		}
		resp.Services = append(resp.Services, sh)
	}
	// Consumers that looked idle, read again after idleRecheck: a member
	// renews its pull request every few seconds, and between the old one
	// expiring and the new one arriving the server counts none waiting.
	type idleRef struct {
		svc  int
		str  *bus.StreamReader
		name string
	}
	var idle []idleRef
	ups := make([]bool, len(pipeline))
	// The newest event time on each stream and set of filters, read once
	// per answer however many consumers share them.
	newestOn := map[string]int64{}
	for i, p := range pipeline {
		if len(p.inputs) == 0 {
			continue
		}
		sh := &resp.Services[i]
		var lag uint64
		var evLag int64
		up, seen := true, 0
		for _, in := range p.inputs {
			stream := proto.StreamName(g.prefix, in.kind)
			str, err := g.bus.Reader(ctx, in.kind)
			var infos []bus.ConsumerState
			if err == nil {
				// A service run as a group has one durable per partition
				// (<durable>-p<i>); an older single consumer, the bare name.
				infos, err = str.Consumers(ctx, in.durable)
			}
			if err != nil {
				up = false
				sh.Detail = fmt.Sprintf("consumer %s: %v", in.durable, err)
				continue
			}
			if len(infos) == 0 {
				up = false
				sh.Detail = fmt.Sprintf("no consumer %s on %s", in.durable, stream)
				continue
			}
			seen++
			for _, ci := range infos {
				lag += ci.Outstanding()
				// A member pulls (waiting requests) or holds messages in
				// work; a partition nobody pulls from has lost its member.
				if ci.Waiting == 0 && ci.AckPending == 0 {
					idle = append(idle, idleRef{svc: i, str: str, name: ci.Name})
				}
				// A consumer with nothing left to deliver or acknowledge is
				// caught up, whatever its last message's event time: a
				// partition whose apps went quiet is not behind the newest
				// message another partition's app sent. One with messages
				// left is behind the newest it reads (its partition's),
				// not the stream's.
				if ci.Outstanding() > 0 {
					if lag, ok := g.consumerEventLag(ctx, str, ci, newestOn); ok {
						evLag = max(evLag, lag)
					}
				}
			}
		}
		ups[i] = up && seen == len(p.inputs)
		if seen > 0 {
			sh.Lag, sh.EventLagMS = &lag, &evLag
		}
	}
	// Only a service that is up but for its idle consumers is worth the
	// wait; one down for a reason of its own (a durable missing, a stream
	// unread) stays down whatever the recheck reads. A service stopped
	// with its durables in place still costs each answer the wait.
	idle = slices.DeleteFunc(idle, func(r idleRef) bool { return !ups[r.svc] })
	if len(idle) > 0 && g.healthRecheck(ctx) == nil {
		// Each stream's consumers are listed once, however many of them
		// looked idle (a service down has one per partition and input).
		pulled := map[string]map[string]bool{} // stream → consumers pulled from
		for _, r := range idle {
			if _, ok := pulled[r.str.Name()]; ok {
				continue
			}
			infos, err := r.str.Consumers(ctx, "")
			names := map[string]bool{}
			for _, ci := range infos {
				names[ci.Name] = ci.Waiting > 0 || ci.AckPending > 0
			}
			if err == nil {
				pulled[r.str.Name()] = names
			}
		}
		for _, r := range idle {
			if ups[r.svc] && !pulled[r.str.Name()][r.name] {
				ups[r.svc] = false
				resp.Services[r.svc].Detail = fmt.Sprintf("nobody pulls from %s", r.name)
			}
		}
	} else {
		for _, r := range idle {
			ups[r.svc] = false
			resp.Services[r.svc].Detail = fmt.Sprintf("nobody pulls from %s", r.name)
		}
	}
	for i, p := range pipeline {
		if len(p.inputs) > 0 {
			resp.Services[i].Up = ups[i]
		}
	}
	return resp
}

// consumerEventLag is how far, in event time, the oldest message ci has
// yet to acknowledge is behind the newest stored on the subjects it reads
// (its partition's, for a group member: bus.StreamReader.EventLag);
// newest caches those reads by stream and filters. False when either
// cannot be read.
func (g *Gateway) consumerEventLag(ctx context.Context, str *bus.StreamReader, ci bus.ConsumerState, newest map[string]int64) (int64, bool) {
	key := str.Name() + " " + strings.Join(ci.Filters, " ")
	ts, ok := newest[key]
	if !ok {
		m, err := str.NewestOn(ctx, ci.Filters)
		if err != nil {
			return 0, false
		}
		ts = m.EventTime()
		newest[key] = ts
	}
	lag, err := str.EventLag(ctx, ci, ts)
	return lag, err == nil
}

// idleRecheck is how long the health answer waits before it reads again a
// consumer that no request was pulling from: long against the moment a
// member takes to renew its pull, short against the pull's expiry.
const idleRecheck = 250 * time.Millisecond

// healthRecheck waits idleRecheck, or runs the test's hook instead.
func (g *Gateway) healthRecheck(ctx context.Context) error {
	if g.recheckHook != nil {
		return g.recheckHook(ctx)
	}
	return sleep(ctx, idleRecheck)
}
