package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/proto"
)

// AppInfo is one application in the /api/v1/apps answer.
type AppInfo struct {
	Name string `json:"name"`
	// Tiers are in configuration order, the front tier first (the
	// default policy's web, cache, db for unconfigured apps), then any
	// other tier by name.
	Tiers []string `json:"tiers"`
	// Mode is the configured mode (live, dry-run, shadow; "" when the app
	// is not in the configuration file).
	Mode string `json:"mode,omitempty"`
	// LastTS is the newest event time (Unix ms) of the app's metrics.
	LastTS int64 `json:"last_ts"`
}

// AppsResponse is the /api/v1/apps answer.
type AppsResponse struct {
	Prefix string    `json:"prefix"`
	Apps   []AppInfo `json:"apps"`
	// ServerTime is the gateway's clock (Unix ms), for clients to compare
	// with event times.
	ServerTime int64 `json:"server_time"`
}

// serveApps lists apps and tiers from the subjects recorded in METRICS.
func (g *Gateway) serveApps(w http.ResponseWriter, r *http.Request) {
	if !g.checkToken(r, "apps") {
		g.metrics.apiRequests.WithLabelValues("apps", resultToken).Inc()
		client, forwarded := g.forwardedClient(r)
		g.refuseToken(w, r, "apps", client, forwarded)
		return
	}
	release, ok := g.admitAPI(r.Context(), w, "apps")
	if !ok {
		return
	}
	defer release()
	resp, err := g.apps(r)
	if err != nil {
		if r.Context().Err() != nil {
			g.metrics.apiRequests.WithLabelValues("apps", resultCanceled).Inc()
			return // the client hung up: not the gateway's failure
		}
		g.metrics.apiRequests.WithLabelValues("apps", resultUnavailable).Inc()
		if ev, others := g.appsFailLog.note(g.log, quoted(err.Error()), time.Now()); ev != nil {
			g.appsFailLog.first(ev, others).Err(err).Msg("list apps")
		}
		http.Error(w, "cannot list apps", http.StatusServiceUnavailable)
		return
	}
	g.metrics.apiRequests.WithLabelValues("apps", resultOK).Inc()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(resp)
}

func (g *Gateway) apps(r *http.Request) (AppsResponse, error) {
	ctx := r.Context()
	resp := AppsResponse{Prefix: g.prefix, Apps: []AppInfo{}, ServerTime: nowMillis()}
	str, err := g.bus.Reader(ctx, proto.KindMetrics)
	if err != nil {
		return resp, err
	}
	subjects, err := str.Subjects(ctx, proto.Filter(g.prefix, proto.KindMetrics))
	if err != nil {
		return resp, err
	}
	byApp := map[string]*AppInfo{}
	for subj := range subjects {
		_, app, tier, err := proto.ParseSubject(g.prefix, subj)
		if err != nil {
			continue
		}
		a := byApp[app]
		if a == nil {
			a = &AppInfo{Name: app}
			byApp[app] = a
		}
		a.Tiers = append(a.Tiers, tier)
		m, err := str.Last(ctx, subj)
		if errors.Is(err, bus.ErrNotFound) {
			continue
		}
		if err != nil {
			return resp, err
		}
		a.LastTS = max(a.LastTS, m.EventTime())
	}
	for _, a := range byApp {
		pol, mode, _ := g.appPolicy(a.Name)
		tierOrder(pol, a.Tiers)
		a.Mode = mode
		resp.Apps = append(resp.Apps, *a)
	}
	slices.SortFunc(resp.Apps, func(a, b AppInfo) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return resp, nil
}
