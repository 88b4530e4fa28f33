package proto_test

import (
	"bytes"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/headroomhq/headroom/proto"
)

var update = flag.Bool("update", false, "rewrite the golden vectors in testdata/")

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// samples returns one fully populated message of every type, named for its
// golden file.
func samples() map[string]proto.Message {
	ts := proto.Millis(t0)
	m := proto.NewMetrics("shop", "web", t0, 3, map[string]float64{"rps": 120.5, "cpu": 0.41, "latency_p95_ms": 87.25})
	m.Source = "sim"
	m.Labels = map[string]string{"target": "web-1:9100"}
	return map[string]proto.Message{
		"metrics": m,
		"forecast": &proto.Forecast{V: 1, ID: proto.ForecastID("shop", "web", "rps", ts), App: "shop", Tier: "web", TS: ts, Metric: "rps", StepMS: 300000, Model: "ets", Trained: 4032,
			Points: []proto.ForecastPoint{{TS: ts, Yhat: 120, Lo80: 110, Hi80: 130, Lo95: 100, Hi95: 140}, {TS: ts + 300000, Yhat: 125, Lo80: 112, Hi80: 138, Lo95: 104, Hi95: 150}}},
		"anomaly": &proto.Anomaly{V: 1, ID: proto.AnomalyID("shop", "db", ts), App: "shop", Tier: "db", TS: ts,
			Scores:    []proto.Score{{Metric: "latency_p95_ms", Score: 0.97, Anomaly: true, Observed: 840, Expected: 120, Detector: "residual", Direction: 1}, {Metric: "rps", Score: 0.1, Observed: 300, Expected: 295, Detector: "residual"}},
			Incidents: []proto.Incident{{ID: "performance.1767323045000", Kind: proto.IncidentPerformance, State: proto.IncidentOpen, Start: ts, Severity: 0.8, Evidence: []string{"latency_p95_ms 840 vs expected 120 (score 0.97)"}}},
			Open:      []string{proto.IncidentPerformance}},
		"decision": &proto.Decision{V: 1, ID: proto.DecisionID("shop", "web", ts), App: "shop", Tier: "web", TS: ts, From: 4, To: 6, Action: proto.ActionUp,
			Reason: "web 4→6: forecast p90 812 rps in 12 min exceeds 4 × 170 rps at 70 % target", Inputs: proto.Floats{"load": 610, "forecast_p90": 812, "capacity": 170, "target": 0.7}, State: "cooldown-up", TickMS: 15000},
		"scaling": &proto.Scaling{V: 1, ID: proto.ScalingID("shop", "web", "d.shop.web.1767323045000", proto.StatusApplied, ts), App: "shop", Tier: "web", TS: ts, DecisionID: "d.shop.web.1767323045000",
			Status: proto.StatusApplied, Desired: 6, Ready: 4, Booting: 2, Driver: "sim", Mode: "live"},
		"deadletter": &proto.DeadLetter{V: 1, ID: proto.DeadLetterID("forecaster", "METRICS", 42), TS: ts, Service: "forecaster", Subject: "apm.metrics.shop.web", Stream: "METRICS", Seq: 42,
			Error: "decode *proto.Metrics: invalid message: values.rps is not finite", Payload: []byte{0xc1}},
	}
}

func newOf(m proto.Message) proto.Message {
	return reflect.New(reflect.TypeOf(m).Elem()).Interface().(proto.Message)
}

// TestGolden compares every message's encoding byte for byte with its vector
// in testdata/, and decodes the vector back to an equal message.
func TestGolden(t *testing.T) {
	for name, m := range samples() {
		t.Run(name, func(t *testing.T) {
			if err := m.Validate(); err != nil {
				t.Fatalf("sample invalid: %v", err)
			}
			got, err := proto.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name+".msgpack")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./proto -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encoding differs from %s:\n got %x\nwant %x", path, got, want)
			}
			back := newOf(m)
			if err := proto.Decode(want, back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, m) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", back, m)
			}
		})
	}
}

// TestEncodeDeterministic encodes a message with many map keys repeatedly:
// sorted keys must give identical bytes every time.
func TestEncodeDeterministic(t *testing.T) {
	vals := proto.Floats{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"} {
		vals[k] = 1
	}
	m := proto.NewMetrics("shop", "web", t0, 1, vals)
	first, _ := proto.Encode(m)
	for range 50 {
		b, _ := proto.Encode(m)
		if !bytes.Equal(b, first) {
			t.Fatal("encoding changed between calls")
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	enc := func(m proto.Message) []byte {
		// Encode without validating, to craft bad payloads.
		b, err := proto.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := func() *proto.Metrics {
		return proto.NewMetrics("shop", "web", t0, 2, map[string]float64{"rps": 1})
	}
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"garbage", []byte{0xc1, 0x00}, nil},
		{"map claiming 2^31 entries", []byte("\xdf~\xc2\xa6\xe5n"), nil},
		{"array claiming 2^32-1 scores", []byte{0x81, 0xa6, 's', 'c', 'o', 'r', 'e', 's', 0xdd, 0xff, 0xff, 0xff, 0xff}, nil},
		{"version", enc(func() *proto.Metrics { m := good(); m.V = 9; return m }()), proto.ErrUnknownVersion},
		{"app token", enc(func() *proto.Metrics { m := good(); m.App = "Shop!"; return m }()), proto.ErrBadToken},
		{"nan", enc(func() *proto.Metrics { m := good(); m.Values["rps"] = math.NaN(); return m }()), proto.ErrInvalid},
		{"no values", enc(func() *proto.Metrics { m := good(); m.Values = nil; return m }()), proto.ErrInvalid},
		{"negative replicas", enc(func() *proto.Metrics { m := good(); m.Replicas = -1; return m }()), proto.ErrInvalid},
		{"bad value name", enc(func() *proto.Metrics { m := good(); m.Values["RPS"] = 1; return m }()), proto.ErrInvalid},
		{"too big", make([]byte, proto.MaxPayload+1), proto.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := proto.Decode(c.data, &proto.Metrics{})
			if err == nil {
				t.Fatal("decoded a bad payload")
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("err %v, want %v", err, c.want)
			}
		})
	}
}

func TestSubjects(t *testing.T) {
	if got := proto.MetricsSubject("apm", "shop", "web"); got != "apm.metrics.shop.web" {
		t.Fatal(got)
	}
	if got := proto.Filter("apm", proto.KindForecast); got != "apm.forecast.>" {
		t.Fatal(got)
	}
	if got := proto.DLQSubject("apm", "decider"); got != "apm.dlq.decider" {
		t.Fatal(got)
	}
	if got := proto.StreamName("staging", proto.KindMetrics); got != "STAGING_METRICS" {
		t.Fatal(got)
	}
	if got := proto.StreamName("apm", proto.KindAnomaly); got != "ANOMALIES" {
		t.Fatal(got)
	}
	cases := []struct {
		subj      string
		kind      proto.Kind
		app, tier string
		ok        bool
	}{
		{"apm.metrics.shop.web", proto.KindMetrics, "shop", "web", true},
		{"apm.decision.shop-2.db_main", proto.KindDecision, "shop-2", "db_main", true},
		{"apm.metrics.Shop.web", "", "", "", false},
		{"apm.metrics.shop", "", "", "", false},
		{"apm.metrics.shop.web.x", "", "", "", false},
		{"apm.nope.shop.web", "", "", "", false},
		{"other.metrics.shop.web", "", "", "", false},
	}
	for _, c := range cases {
		k, app, tier, err := proto.ParseSubject("apm", c.subj)
		if (err == nil) != c.ok || k != c.kind || app != c.app || tier != c.tier {
			t.Errorf("ParseSubject(%q) = %q %q %q %v", c.subj, k, app, tier, err)
		}
	}
}

func TestCheckToken(t *testing.T) {
	for _, s := range []string{"web", "a", "db-1", "x_y", "0"} {
		if err := proto.CheckToken("tier", s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	for _, s := range []string{"", "Web", "a.b", "a*", "a>", "a b", "é", string(make([]byte, 65))} {
		if err := proto.CheckToken("tier", s); !errors.Is(err, proto.ErrBadToken) {
			t.Errorf("%q: err %v", s, err)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to every decoder: none may panic, and what
// decodes must re-encode and decode to the same message.
func FuzzDecode(f *testing.F) {
	for _, m := range samples() {
		b, _ := proto.Encode(m)
		f.Add(b)
	}
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range samples() {
			v := newOf(m)
			if proto.Decode(data, v) != nil {
				continue
			}
			b, err := proto.Encode(v)
			if err != nil {
				t.Fatalf("re-encode %T: %v", v, err)
			}
			w := newOf(m)
			if err := proto.Decode(b, w); err != nil {
				t.Fatalf("decode of re-encoded %T: %v", v, err)
			}
		}
	})
}

// TestValidMetricNameMatchesRE checks the hand-written check against the
// documented regular expression on a spread of names.
func TestValidMetricNameMatchesRE(t *testing.T) {
	names := []string{"", "rps", "latency_p95_ms", "a", "A", "1a", "a-b", "a.b", "_a", "a_", "é", "cpu2",
		"a234567890123456789012345678901234567890123456789012345678901234", "a2345678901234567890123456789012345678901234567890123456789012345"}
	for _, n := range names {
		if got, want := proto.ValidMetricName(n), proto.MetricNameRE.MatchString(n); got != want {
			t.Errorf("ValidMetricName(%q) = %v, regexp says %v", n, got, want)
		}
	}
}

func BenchmarkDecodeMetrics(b *testing.B) {
	m := samples()["metrics"]
	data, _ := proto.Encode(m)
	b.ReportAllocs()
	for b.Loop() {
		var v proto.Metrics
		if err := proto.Decode(data, &v); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDecisionTickNotNegative: a decision claiming a negative tick is
// refused at decode, before the executor would add it to an age limit.
func TestDecisionTickNotNegative(t *testing.T) {
	d := samples()["decision"].(*proto.Decision)
	d.TickMS = -60000
	b, err := proto.Encode(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := proto.Decode(b, &proto.Decision{}); !errors.Is(err, proto.ErrInvalid) {
		t.Fatalf("decoding a decision with tick_ms -60000: %v, want %v", err, proto.ErrInvalid)
	}
}

// TestDecisionTime reads back the time a DecisionID names and refuses ids
// of another form.
func TestDecisionTime(t *testing.T) {
	for _, c := range []struct {
		id   string
		ts   int64
		want bool
	}{
		{proto.DecisionID("shop", "web", 1767573600000), 1767573600000, true},
		{proto.DecisionID("a-b", "db_1", 0), 0, true},
		{"d.shop.web.", 0, false},
		{"d.shop.web.+12", 0, false},
		{"d.shop.web.-12", 0, false},
		{"x.shop.web.12", 0, false},
		{"d.shop.web.12x", 0, false},
		{"", 0, false},
	} {
		ts, ok := proto.DecisionTime(c.id)
		if ok != c.want || ts != c.ts {
			t.Errorf("DecisionTime(%q) = %d, %v; want %d, %v", c.id, ts, ok, c.ts, c.want)
		}
	}
}

// TestDecodeReplicaState: only the executor's state of the key's own tier
// decodes; a copy of another message stored under the key (another tier's
// state, a scaling event or a decision of the tier) is refused.
func TestDecodeReplicaState(t *testing.T) {
	own := &proto.ReplicaState{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: 5, Desired: 3, Ready: 2, Booting: 1, DecisionID: "d", Claimed: true}
	cases := []struct {
		name string
		m    proto.Message
		ok   bool
	}{
		{"own state", own, true},
		{"another tier's state", &proto.ReplicaState{V: proto.SchemaVersion, App: "shop", Tier: "db", TS: 5, Desired: 190}, false},
		{"the tier's scaling event", &proto.Scaling{V: proto.SchemaVersion, ID: proto.ScalingID("shop", "web", "d", proto.StatusReady, 5), App: "shop", Tier: "web", TS: 5,
			Status: proto.StatusReady, Desired: 3, Ready: 3, Driver: "sim", Mode: "live"}, false},
		{"the tier's decision", &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID("shop", "web", 5), App: "shop", Tier: "web", TS: 5,
			Action: proto.ActionUp, From: 2, To: 3}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data, err := proto.Encode(c.m)
			if err != nil {
				t.Fatal(err)
			}
			st, err := proto.DecodeReplicaState("shop.web", data)
			if (err == nil) != c.ok {
				t.Fatalf("err %v, want ok=%v", err, c.ok)
			}
			if c.ok && *st != *own {
				t.Fatalf("decoded %+v, want %+v", st, own)
			}
		})
	}
}

// TestReplicaStateClaimedBy: a state says why its count is claimed with
// one of the known causes, and only when it is claimed; a state without
// the field (written before it) decodes as it did, and only the causes
// of a count never asked of the real workload owe it a sync.
func TestReplicaStateClaimedBy(t *testing.T) {
	for _, c := range []struct {
		claimed bool
		by      string
		ok      bool
		owed    bool
	}{
		{false, "", true, false},
		{true, "", true, false}, // written before the field: as before
		{true, proto.ClaimedDryRun, true, true},
		{true, proto.ClaimedUnauthorised, true, true},
		{true, proto.ClaimedShadow, true, true},
		{true, proto.ClaimedFailed, true, false},
		{true, proto.ClaimedBraked, true, false},
		{true, proto.ClaimedReplayed, true, false},
		{false, proto.ClaimedDryRun, false, false},
		{true, "guessed", false, false},
	} {
		st := &proto.ReplicaState{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: 5, Desired: 8, Ready: 5, DecisionID: "d", Claimed: c.claimed, ClaimedBy: c.by}
		data, err := proto.Encode(st)
		if err != nil {
			t.Fatal(err)
		}
		got, err := proto.DecodeReplicaState("shop.web", data)
		if (err == nil) != c.ok {
			t.Errorf("claimed %v by %q: decode err %v, want ok=%v", c.claimed, c.by, err, c.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, proto.ErrInvalid) {
				t.Errorf("claimed %v by %q: err %v, want %v", c.claimed, c.by, err, proto.ErrInvalid)
			}
			continue
		}
		if *got != *st {
			t.Errorf("decoded %+v, want %+v", got, st)
		}
		if got.ClaimOnlyAcknowledged() != c.owed {
			t.Errorf("claimed %v by %q: only acknowledged %v, want %v", c.claimed, c.by, !c.owed, c.owed)
		}
	}
}

// FuzzDecodeReplicaState feeds arbitrary bytes to the replica state's
// decoder: it may not panic, and what decodes names a known cause only
// with a claim, and re-encodes to a state that decodes the same.
func FuzzDecodeReplicaState(f *testing.F) {
	for _, st := range []*proto.ReplicaState{
		{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: 5, Desired: 3, Ready: 2, Booting: 1, DecisionID: "d"},
		{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: 5, Desired: 8, Ready: 5, DecisionID: "d", Claimed: true},
		{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: 5, Desired: 8, Ready: 5, DecisionID: "d", Claimed: true, ClaimedBy: proto.ClaimedDryRun},
		{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: 5, Desired: 5, Ready: 5, Claimed: true, ClaimedBy: proto.ClaimedFailed},
		{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: 5, Desired: 9, Ready: 4, Booting: 5, DecisionID: "d", Claimed: true, ClaimedBy: proto.ClaimedShadow},
		{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: 5, Desired: 18, Ready: 5, DecisionID: "d", Claimed: true, ClaimedBy: proto.ClaimedReplayed},
	} {
		b, _ := proto.Encode(st)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := proto.DecodeReplicaState("shop.web", data)
		if err != nil {
			return
		}
		if st.ClaimedBy != "" && !st.Claimed {
			t.Fatalf("decoded %+v: a cause without a claim", st)
		}
		b, err := proto.Encode(st)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", st, err)
		}
		again, err := proto.DecodeReplicaState("shop.web", b)
		if err != nil || *again != *st {
			t.Fatalf("re-encoded %+v decodes to %+v, %v", st, again, err)
		}
	})
}

// TestReplicaStateWithoutCauseEncodesAsBefore: a state that names no
// claim's cause encodes without the claimed_by key, byte for byte as a
// build before the field encoded it, so every build reads it; only a
// state naming a cause carries the key, which a build before it refuses
// (see ReplicaState.ClaimedBy).
func TestReplicaStateWithoutCauseEncodesAsBefore(t *testing.T) {
	for _, st := range []*proto.ReplicaState{
		{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: 5, Desired: 8, Ready: 8, DecisionID: "d"},
		{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: 5, Desired: 8, Ready: 5, DecisionID: "d", Claimed: true},
		{V: proto.SchemaVersion, App: "shop", Tier: "web", TS: 5, Desired: 8, Ready: 5, DecisionID: "d", Claimed: true, ClaimedBy: proto.ClaimedDryRun},
	} {
		b, err := proto.Encode(st)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := bytes.Contains(b, []byte("claimed_by")), st.ClaimedBy != ""; got != want {
			t.Errorf("state %+v encodes with the claimed_by key %v, want %v", st, got, want)
		}
	}
}
