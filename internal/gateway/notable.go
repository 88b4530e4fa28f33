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
	}
	decisionHead struct {
		Action string `msgpack:"action"`
	}
	scalingHead struct {
		Status string `msgpack:"status"`
	}
)

// notable reports whether a history message carries an event a thinned
// history must keep: a flagged anomaly, an incident change, a decision other
// than a hold, a scaling request, failure or skip. Metrics, forecasts, quiet
// scores (an incident merely still open included: its opening and closing
// are kept), holds and the executor's follow-ups of a request (applied,
// ready) are thinned; the payload is read only for anomaly, decision and
// scaling messages, and only their few deciding fields.
func notable(k proto.Kind, data []byte) bool {
	switch k {
	case proto.KindScaling:
		var h scalingHead
		if msgpack.Unmarshal(data, &h) != nil {
			return true
		}
		return h.Status != proto.StatusApplied && h.Status != proto.StatusReady
	case proto.KindAnomaly:
		var h anomalyHead
		if msgpack.Unmarshal(data, &h) != nil {
			return true // let the client see what it is
		}
		if len(h.Incidents) > 0 {
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
