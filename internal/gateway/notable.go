package gateway

import (
	"github.com/vmihailenco/msgpack/v5"

	"github.com/headroomhq/headroom/proto"
)

// The few fields thinning looks at; msgpack skips the rest of a payload.
type (
	anomalyHead struct {
		Scores []struct {
			Anomaly bool `msgpack:"anomaly"`
		} `msgpack:"scores"`
		Incidents []struct{} `msgpack:"incidents"`
		Open      []string   `msgpack:"open"`
	}
	decisionHead struct {
		Action string `msgpack:"action"`
	}
)

// notable reports whether a history message carries an event a thinned
// history must keep: a flagged anomaly, an incident change or an open
// incident, a decision other than a hold, any scaling event. Metrics,
// forecasts and quiet scores are thinned; the payload is read only for
// anomaly and decision messages, and only their few deciding fields.
func notable(k proto.Kind, data []byte) bool {
	switch k {
	case proto.KindScaling:
		return true
	case proto.KindAnomaly:
		var h anomalyHead
		if msgpack.Unmarshal(data, &h) != nil {
			return true // let the client see what it is
		}
		if len(h.Incidents) > 0 || len(h.Open) > 0 {
			return true
		}
		for _, s := range h.Scores {
			if s.Anomaly {
				return true
			}
		}
	case proto.KindDecision:
		var h decisionHead
		if msgpack.Unmarshal(data, &h) != nil {
			return true
		}
		return h.Action != proto.ActionHold
	}
	return false
}
