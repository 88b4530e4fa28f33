package gateway

import (
	"testing"

	"github.com/headroomhq/headroom/proto"
)

// TestNotable: thinning keeps every event a long window must show and
// thins the quiet bulk.
func TestNotable(t *testing.T) {
	enc := func(m proto.Message) []byte {
		t.Helper()
		b, err := proto.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	quiet := &proto.Anomaly{V: proto.SchemaVersion, ID: "a.shop.web.1", App: "shop", Tier: "web", TS: 1,
		Scores: []proto.Score{{Metric: "rps", Score: 0.1}, {Metric: "cpu", Score: 0.2}}}
	flagged := *quiet
	flagged.Scores = []proto.Score{{Metric: "rps", Score: 0.9, Anomaly: true}}
	incident := *quiet
	incident.Incidents = []proto.Incident{{ID: "i1", Kind: "load", State: "open", Start: 1}}
	open := *quiet
	open.Open = []string{"load"}
	hold := &proto.Decision{V: proto.SchemaVersion, ID: "d.shop.web.1", App: "shop", Tier: "web", TS: 1, From: 3, To: 3, Action: proto.ActionHold, Reason: "r"}
	scaling := func(status string) *proto.Scaling {
		return &proto.Scaling{V: proto.SchemaVersion, ID: "s.shop.web.1." + status, App: "shop", Tier: "web", TS: 1, Status: status}
	}
	up := *hold
	up.Action, up.To = proto.ActionUp, 4
	cases := []struct {
		name string
		kind proto.Kind
		data []byte
		want bool
	}{
		{"quiet scores", proto.KindAnomaly, enc(quiet), false},
		{"flagged score", proto.KindAnomaly, enc(&flagged), true},
		{"incident", proto.KindAnomaly, enc(&incident), true},
		{"incident still open", proto.KindAnomaly, enc(&open), false},
		{"hold", proto.KindDecision, enc(hold), false},
		{"up", proto.KindDecision, enc(&up), true},
		{"scaling requested", proto.KindScaling, enc(scaling(proto.StatusRequested)), true},
		{"scaling failed", proto.KindScaling, enc(scaling(proto.StatusFailed)), true},
		{"scaling skipped", proto.KindScaling, enc(scaling(proto.StatusSkipped)), true},
		{"scaling applied", proto.KindScaling, enc(scaling(proto.StatusApplied)), false},
		{"scaling ready", proto.KindScaling, enc(scaling(proto.StatusReady)), false},
		{"scaling without status", proto.KindScaling, []byte{0x80}, true},
		{"metrics", proto.KindMetrics, []byte{0x80}, false},
		{"undecodable anomaly", proto.KindAnomaly, []byte{0xc1}, true},
	}
	for _, c := range cases {
		if got := notable(c.kind, c.data); got != c.want {
			t.Errorf("%s: notable = %v, want %v", c.name, got, c.want)
		}
	}
}
