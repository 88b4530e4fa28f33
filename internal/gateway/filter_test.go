package gateway

import (
	"reflect"
	"testing"

	"github.com/headroomhq/headroom/proto"
)

func TestFilterMatch(t *testing.T) {
	cases := []struct {
		filter, subject string
		want            bool
	}{
		{"apm.metrics.shop.web", "apm.metrics.shop.web", true},
		{"apm.metrics.shop.web", "apm.metrics.shop.db", false},
		{"apm.metrics.shop.*", "apm.metrics.shop.db", true},
		{"apm.metrics.shop.*", "apm.metrics.shop", false},
		{"apm.metrics.shop.*", "apm.metrics.shop.db.x", false},
		{"apm.*.shop.web", "apm.decision.shop.web", true},
		{"apm.>", "apm.decision.shop.web", true},
		{"apm.>", "apm", false},
		{"apm.metrics.>", "apm.metrics.a.b", true},
		{"apm.metrics.>", "apm.forecast.a.b", false},
		{"apm.metrics.*.*", "apm.metrics.a.b", true},
		{"apm.metrics.*.*", "apmx.metrics.a.b", false},
		{"apm.>", "apm.dlq.decider", false},
		{"apm.*.*", "apm.dlq.decider", false},
		{"apm.*.>", "apm.dlqx.a.b", true},
	}
	for _, c := range cases {
		f, err := parseFilter("apm", c.filter)
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		if got := f.match(c.subject); got != c.want {
			t.Errorf("%s match %s = %v, want %v", c.filter, c.subject, got, c.want)
		}
	}
}

func TestParseFilterRejects(t *testing.T) {
	for _, s := range []string{"", "other.metrics.a.b", "apm", "apm..a", "apm.>.a", "apm.bogus.a.b", "apm.metrics.a b.c", "apm.metrics.é.b", "apm.metrics.a.b.", "apm.dlq.>", "apm.dlq.decider"} {
		if _, err := parseFilter("apm", s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
	if _, err := parseFilter("staging.eu", "staging.eu.metrics.shop.web"); err != nil {
		t.Errorf("dotted prefix: %v", err)
	}
}

func TestStreamFilters(t *testing.T) {
	mk := func(ss ...string) []filter {
		var fs []filter
		for _, s := range ss {
			f, err := parseFilter("apm", s)
			if err != nil {
				t.Fatal(err)
			}
			fs = append(fs, f)
		}
		return fs
	}
	cases := []struct {
		name string
		in   []filter
		want map[proto.Kind][]string
	}{
		// Partitioned kinds are stored with a trailing partition token.
		{"one kind", mk("apm.metrics.shop.*"), map[proto.Kind][]string{proto.KindMetrics: {"apm.metrics.shop.*.*"}}},
		{"kind wildcard", mk("apm.*.shop.web"), map[proto.Kind][]string{
			proto.KindMetrics: {"apm.metrics.shop.web.*"}, proto.KindForecast: {"apm.forecast.shop.web.*"},
			proto.KindAnomaly: {"apm.anomaly.shop.web.*"}, proto.KindDecision: {"apm.decision.shop.web.*"},
			proto.KindScaling: {"apm.scaling.shop.web"},
		}},
		{"all", mk("apm.>"), map[proto.Kind][]string{
			proto.KindMetrics: {"apm.metrics.>"}, proto.KindForecast: {"apm.forecast.>"},
			proto.KindAnomaly: {"apm.anomaly.>"}, proto.KindDecision: {"apm.decision.>"},
			proto.KindScaling: {"apm.scaling.>"},
		}},
		{"disjoint kept", mk("apm.metrics.shop.web", "apm.metrics.shop.db"), map[proto.Kind][]string{
			proto.KindMetrics: {"apm.metrics.shop.web.*", "apm.metrics.shop.db.*"},
		}},
		{"overlap widened", mk("apm.metrics.shop.*", "apm.metrics.*.web"), map[proto.Kind][]string{
			proto.KindMetrics: {"apm.metrics.>"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := streamFilters("apm", c.in); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v\nwant %v", got, c.want)
			}
		})
	}
}

func TestSubscribeSpec(t *testing.T) {
	good := []Request{
		{Op: OpSubscribe, ID: "s1", Subjects: []string{"apm.metrics.shop.*"}, Since: 10},
		{Op: OpSubscribe, ID: "s2", App: "shop"},
		{Op: OpSubscribe, ID: "s3", App: "shop", Tier: "web", Kinds: []string{"metrics", "decision"}, Since: 5, Until: 9},
	}
	for _, r := range good {
		if _, err := subscribeSpec("apm", r, 100); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
	bad := []Request{
		{Op: OpSubscribe, ID: "s", Subjects: []string{"apm.metrics.shop.*"}, App: "shop"},
		{Op: OpSubscribe, ID: "s", App: "Shop"},
		{Op: OpSubscribe, ID: "s", Kinds: []string{"dlq"}},
		{Op: OpSubscribe, ID: "s", Subjects: []string{"nats.>"}},
		{Op: OpSubscribe, ID: "s", App: "shop", Since: -1},
		{Op: OpSubscribe, ID: "s", App: "shop", Until: 5},
		{Op: OpSubscribe, ID: "s", App: "shop", Since: 5, Until: 5},
		{Op: OpSubscribe, ID: "s", Subjects: make([]string, maxFilters+1)},
	}
	for _, r := range bad {
		if _, err := subscribeSpec("apm", r, 100); err == nil {
			t.Errorf("%+v accepted", r)
		}
	}
	s, _ := subscribeSpec("apm", Request{Op: OpSubscribe, ID: "x", App: "shop", Since: 1, Max: 7}, 100)
	if s.max != 7 || len(s.filters) != 5 {
		t.Fatalf("max %d filters %d", s.max, len(s.filters))
	}
	s, _ = subscribeSpec("apm", Request{Op: OpSubscribe, ID: "x", App: "shop", Since: 1, Max: 700}, 100)
	if s.max != 100 {
		t.Fatalf("client max above the gateway's cap kept: %d", s.max)
	}
}

func TestParseRequest(t *testing.T) {
	for _, in := range []string{`{"op":"subscribe","id":"a"}`, `{"op":"ping"}`, `{"op":"unsubscribe","id":"a.b-c"}`} {
		if _, err := parseRequest([]byte(in)); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
	for _, in := range []string{`nope`, `{"op":"publish","id":"a"}`, `{"op":"subscribe","id":""}`, `{"op":"subscribe","id":"a b"}`, string(make([]byte, maxRequestBytes+1))} {
		if _, err := parseRequest([]byte(in)); err == nil {
			t.Errorf("%.40q accepted", in)
		}
	}
}
