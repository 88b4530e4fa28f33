package deploy_test

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/rs/zerolog"
	"go.yaml.in/yaml/v3"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/decider"
	"github.com/headroomhq/headroom/internal/detector"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/forecaster"
	"github.com/headroomhq/headroom/internal/gateway"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
)

// describing is a registry that also records, for every metric of every
// collector registered, its label names (constant and variable).
type describing struct {
	*prometheus.Registry
	mu     sync.Mutex
	labels map[string][]string
}

var descRE = regexp.MustCompile(`^Desc\{fqName: "([^"]+)", .*constLabels: \{(.*)\}, variableLabels: \{(.*)\}\}$`)

func (d *describing) Register(c prometheus.Collector) error {
	if err := d.Registry.Register(c); err != nil {
		return err
	}
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	for desc := range ch {
		m := descRE.FindStringSubmatch(desc.String())
		if m == nil {
			continue
		}
		var names []string
		for _, kv := range strings.Split(m[2], ",") {
			if name, _, ok := strings.Cut(kv, "="); ok {
				names = append(names, name)
			}
		}
		for _, v := range strings.Split(m[3], ",") {
			if v = strings.TrimSuffix(strings.TrimPrefix(v, "c("), ")"); v != "" {
				names = append(names, v)
			}
		}
		d.mu.Lock()
		d.labels[m[1]] = names
		d.mu.Unlock()
	}
	return nil
}

func (d *describing) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := d.Register(c); err != nil {
			panic(err)
		}
	}
}

// exported builds every service the way its main does, on one registry
// that records what they register, and returns each metric's label names.
func exported(t *testing.T) (map[string][]string, *prometheus.Registry) {
	t.Helper()
	file, err := config.Parse("alerts.yaml", []byte("apps:\n  shop:\n    source: push\n    mode: dry-run\n    tiers: [{name: web}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	reg := &describing{Registry: prometheus.NewRegistry(), labels: map[string][]string{}}
	url := natstest.RunJetStream(t)
	log := zerolog.Nop()
	builds := map[string]func(service.Deps) (service.Runner, error){
		"collector":  func(d service.Deps) (service.Runner, error) { return collector.New(collector.DefaultConfig(), d) },
		"forecaster": func(d service.Deps) (service.Runner, error) { return forecaster.New(forecaster.DefaultConfig(), d) },
		"anomaly":    func(d service.Deps) (service.Runner, error) { return detector.New(detector.DefaultConfig(), d) },
		"decider":    func(d service.Deps) (service.Runner, error) { return decider.New(decider.DefaultConfig(), d) },
		"executor":   func(d service.Deps) (service.Runner, error) { return executor.New(executor.DefaultConfig(), d) },
		"gateway":    func(d service.Deps) (service.Runner, error) { return gateway.New(gateway.DefaultConfig(), d) },
	}
	for name, build := range builds {
		bc := bus.DefaultConfig()
		bc.URL, bc.Name = url, name
		b, err := bus.Connect(context.Background(), bc, log, reg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(func() { _ = b.Close(5 * time.Second) })
		d := service.Deps{Bus: b, Log: log, Reg: reg, Ready: service.NewReady(), Mux: http.NewServeMux(), Config: file, HTTPAddr: "127.0.0.1:0"}
		if _, err := build(d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return reg.labels, reg.Registry
}

// gathered returns, per metric reg holds a series of, the values each of
// its labels takes.
func gathered(t *testing.T, reg *prometheus.Registry) map[string]map[string][]string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string][]string{}
	for _, mf := range mfs {
		values := map[string][]string{}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				values[lp.GetName()] = append(values[lp.GetName()], lp.GetValue())
			}
		}
		out[mf.GetName()] = values
	}
	return out
}

// rule is one alerting rule of deploy/prometheus/alerts.yaml.
type rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

var (
	metricRE  = regexp.MustCompile(`\bheadroom_[a-z0-9_]+`)
	byRE      = regexp.MustCompile(`\bby \(([^)]*)\)`)
	matcherRE = regexp.MustCompile(`(headroom_[a-z0-9_]+)\{([^}]*)\}`)
	labelRE   = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	aggRE     = regexp.MustCompile(`\b(sum|max|min|avg|count)\s*(by\s*\([^)]*\)\s*)?\(`)
	usesRE    = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)
	windowRE  = regexp.MustCompile(`increase\([^\[]*\[([0-9a-z]+)\]`)
)

// alertsFile is deploy/prometheus/alerts.yaml as the tests read it.
type alertsFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

// loadAlerts reads deploy/prometheus/alerts.yaml.
func loadAlerts(t *testing.T) alertsFile {
	t.Helper()
	data, err := os.ReadFile("prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file alertsFile
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatalf("alerts.yaml: %v", err)
	}
	return file
}

// TestAlertRules reads deploy/prometheus/alerts.yaml: every rule is
// complete (a severity, a summary and a description, a valid for), and
// names only metrics the services register, with labels they have and
// label values they take; a counter a rule reads through increase() has
// its series from the start (one appearing at its first event increases by
// nothing, so the first event would never alert); an annotation reads only
// labels its expression keeps. (The PromQL itself is not parsed here: the
// rules were checked once with Prometheus's own parser, see the stop-41
// note.)
func TestAlertRules(t *testing.T) {
	file := loadAlerts(t)
	metrics, reg := exported(t)
	series := gathered(t, reg)
	seen := map[string]bool{}
	n := 0
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || seen[r.Alert] {
				t.Errorf("rule %q: an alert needs a name of its own", r.Alert)
			}
			seen[r.Alert] = true
			if !slices.Contains([]string{"warning", "critical"}, r.Labels["severity"]) {
				t.Errorf("%s: severity %q, want warning or critical", r.Alert, r.Labels["severity"])
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs a summary and a description", r.Alert)
			}
			if r.For != "" {
				d, err := model.ParseDuration(r.For)
				if err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
				// A for: asks for something sustained, but increase()
				// over a window stays above 0 for about the window after
				// a single event: a for: no longer than the window fires
				// on one event.
				for _, w := range windowRE.FindAllStringSubmatch(r.Expr, -1) {
					if wd, err := model.ParseDuration(w[1]); err == nil && d <= wd {
						t.Errorf("%s: for %s is no longer than its increase() window %s: a single event fires it", r.Alert, r.For, w[1])
					}
				}
			}
			used := metricRE.FindAllString(r.Expr, -1)
			if len(used) == 0 {
				t.Errorf("%s: its expression %q reads no Headroom metric", r.Alert, r.Expr)
			}
			var kept []string // the labels the expression's result keeps
			for _, m := range used {
				labels, ok := metrics[m]
				if !ok {
					t.Errorf("%s: no service registers %s", r.Alert, m)
					continue
				}
				kept = labels
				// increase() of a series that appears at its first event
				// sees nothing: the series must exist, at 0, from the
				// start. Per-consumer series begin when the consumer
				// starts, and per-tier ones with the tier's first
				// decision, which building the services does not do.
				if strings.Contains(r.Expr, "increase("+m) && !slices.Contains(labels, "consumer") && !slices.Contains(labels, "tier") && series[m] == nil {
					t.Errorf("%s: %s has no series until its first event, which increase() then misses", r.Alert, m)
				}
			}
			if aggRE.MatchString(r.Expr) && !byRE.MatchString(r.Expr) {
				kept = nil
			}
			for _, by := range byRE.FindAllStringSubmatch(r.Expr, -1) {
				kept = nil
				for _, l := range strings.Split(by[1], ",") {
					l = strings.TrimSpace(l)
					kept = append(kept, l)
					for _, m := range used {
						if labels, ok := metrics[m]; ok && !slices.Contains(labels, l) {
							t.Errorf("%s: aggregates by %s, a label %s does not have (%v)", r.Alert, l, m, labels)
						}
					}
				}
			}
			for _, mm := range matcherRE.FindAllStringSubmatch(r.Expr, -1) {
				for _, l := range labelRE.FindAllStringSubmatch(mm[2], -1) {
					if labels, ok := metrics[mm[1]]; ok && !slices.Contains(labels, l[1]) {
						t.Errorf("%s: matches on %s, a label %s does not have (%v)", r.Alert, l[1], mm[1], labels)
					}
					// A value matched exactly must be one the metric takes
					// (its series exist from the start).
					if (l[2] == "=" || l[2] == "!=") && !slices.Contains(series[mm[1]][l[1]], l[3]) {
						t.Errorf("%s: matches %s %s %q, a value %s never has (%v)", r.Alert, l[1], l[2], l[3], mm[1], series[mm[1]][l[1]])
					}
				}
			}
			for _, text := range r.Annotations {
				for _, u := range usesRE.FindAllStringSubmatch(text, -1) {
					if !slices.Contains(kept, u[1]) {
						t.Errorf("%s: an annotation reads $labels.%s, which the expression does not keep (%v)", r.Alert, u[1], kept)
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no alerting rules")
	}
}

// lets reports whether expr's matchers on metric let through the series
// of labels. A matcher is read as Prometheus reads it: =~ an anchored
// RE2, as Go's regexp.
func lets(expr, metric string, labels map[string]string) bool {
	for _, mm := range matcherRE.FindAllStringSubmatch(expr, -1) {
		if mm[1] != metric {
			continue
		}
		ok := true
		for _, l := range labelRE.FindAllStringSubmatch(mm[2], -1) {
			v := labels[l[1]]
			switch l[2] {
			case "=":
				ok = ok && v == l[3]
			case "!=":
				ok = ok && v != l[3]
			case "=~", "!~":
				re := regexp.MustCompile("^(?:" + l[3] + ")$")
				ok = ok && re.MatchString(v) == (l[2] == "=~")
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// TestReplayedDecisionsAlerted: a change decided on replayed input for a
// tier the file names live (a replay under a live app's name) is counted
// under headroom_executor_refused_total{why="replayed"}, a series that
// exists from the start, and an alert on increase() of it fires, one
// that keeps why to say so; the refusals of tiers without authority
// (why="unauthorised", every change of an app not live, by design) stay
// out of it.
func TestReplayedDecisionsAlerted(t *testing.T) {
	file := loadAlerts(t)
	const m = "headroom_executor_refused_total"
	_, reg := exported(t)
	if whys := gathered(t, reg)[m]["why"]; !slices.Contains(whys, "replayed") {
		t.Errorf("%s has no series of why replayed from the start (%v)", m, whys)
	}
	var by []string
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if !strings.Contains(r.Expr, "increase("+m) || !lets(r.Expr, m, map[string]string{"why": "replayed"}) {
				continue
			}
			by = append(by, r.Alert)
			if lets(r.Expr, m, map[string]string{"why": "unauthorised"}) {
				t.Errorf("%s: fires on why=unauthorised too, every change of an app not live", r.Alert)
			}
			if b := byRE.FindStringSubmatch(r.Expr); b == nil || !strings.Contains(b[1], "why") {
				t.Errorf("%s: keeps no why label, so it cannot say the refusal was a replay's", r.Alert)
			}
		}
	}
	if len(by) == 0 {
		t.Errorf("no alert watches %s{why=\"replayed\"}", m)
	}
}

// TestPushRefusalsAlerted: sustained refusals of the push API that lose a
// pusher's ticks for as long as they last (429s for a token's rate, reason
// rate, or a client's failed authentications, auth_rate; a wrong or
// missing token, 401 token; an app the token may not push for, 403 scope)
// fire an alert, one that keeps the reason to say which, and whose series
// exist from the start (so increase() sees the first refusal). A matcher
// is read as Prometheus reads it (see lets).
func TestPushRefusalsAlerted(t *testing.T) {
	file := loadAlerts(t)
	matches := func(expr string, labels map[string]string) bool {
		return lets(expr, "headroom_push_rejected_total", labels)
	}
	_, reg := exported(t)
	series := gathered(t, reg)["headroom_push_rejected_total"]
	// Every refusal that loses a pusher's ticks for as long as it lasts,
	// by status and reason.
	for _, c := range []struct{ status, reason string }{{"429", "rate"}, {"429", "auth_rate"}, {"401", "token"}, {"403", "scope"}} {
		reason := c.reason
		if !slices.Contains(series["reason"], reason) {
			t.Errorf("headroom_push_rejected_total has no series of reason %s from the start (%v)", reason, series["reason"])
		}
		var by []string
		for _, g := range file.Groups {
			for _, r := range g.Rules {
				if strings.Contains(r.Expr, "increase(headroom_push_rejected_total") && matches(r.Expr, map[string]string{"status": c.status, "reason": reason}) &&
					!matches(r.Expr, map[string]string{"status": "503", "reason": "store"}) && r.For != "" {
					by = append(by, r.Alert)
					if m := byRE.FindStringSubmatch(r.Expr); m == nil || !strings.Contains(m[1], "reason") {
						t.Errorf("%s: keeps no reason label, so it cannot say which limit refused", r.Alert)
					}
				}
			}
		}
		if len(by) == 0 {
			t.Errorf("no alert with a for: watches sustained %ss of reason %s", c.status, reason)
		}
	}
}

// TestPushForwardedUnreadableAlerted: a trusted proxy's X-Forwarded-For
// that keeps being unreadable puts every pusher behind it under one
// failed-authentication allowance, every viewer behind it under one
// -gateway.max-clients-per-addr; an alert with a for: watches each of
// headroom_push_forwarded_unreadable_total and
// headroom_gateway_forwarded_unreadable_total, whose series exist from
// the start (so increase() sees the first one).
func TestPushForwardedUnreadableAlerted(t *testing.T) {
	file := loadAlerts(t)
	_, reg := exported(t)
	series := gathered(t, reg)
	for _, m := range []string{"headroom_push_forwarded_unreadable_total", "headroom_gateway_forwarded_unreadable_total"} {
		if _, ok := series[m]; !ok {
			t.Errorf("%s has no series from the start", m)
		}
		var by []string
		for _, g := range file.Groups {
			for _, r := range g.Rules {
				if strings.Contains(r.Expr, "increase("+m) && r.For != "" {
					by = append(by, r.Alert)
				}
			}
		}
		if len(by) == 0 {
			t.Errorf("no alert with a for: watches increase(%s)", m)
		}
	}
}

// TestGatewayRefusalsAlerted: the gateway's token refusals (WebSocket and
// /api/v1) and its failures to read the streams for a client (/api/v1
// 503s, histories) each fire an alert with a for:, on series that exist
// from the start (so increase() sees the first one). A matcher is read
// as Prometheus reads it (see lets).
func TestGatewayRefusalsAlerted(t *testing.T) {
	file := loadAlerts(t)
	_, reg := exported(t)
	series := gathered(t, reg)
	for _, c := range []struct {
		metric string
		labels map[string]string
	}{
		{"headroom_gateway_connections_total", map[string]string{"result": "token"}},
		{"headroom_gateway_api_requests_total", map[string]string{"route": "apps", "result": "token"}},
		{"headroom_gateway_api_requests_total", map[string]string{"route": "fleet", "result": "token"}},
		{"headroom_gateway_api_requests_total", map[string]string{"route": "health", "result": "token"}},
		{"headroom_gateway_api_requests_total", map[string]string{"route": "apps", "result": "unavailable"}},
		{"headroom_gateway_api_requests_total", map[string]string{"route": "fleet", "result": "unavailable"}},
		{"headroom_gateway_history_failures_total", map[string]string{"pass": "history"}},
		{"headroom_gateway_history_failures_total", map[string]string{"pass": "catchup"}},
	} {
		for l, v := range c.labels {
			if !slices.Contains(series[c.metric][l], v) {
				t.Errorf("%s has no series of %s %q from the start (%v)", c.metric, l, v, series[c.metric][l])
			}
		}
		var by []string
		for _, g := range file.Groups {
			for _, r := range g.Rules {
				if strings.Contains(r.Expr, "increase("+c.metric) && lets(r.Expr, c.metric, c.labels) && r.For != "" {
					by = append(by, r.Alert)
				}
			}
		}
		if len(by) == 0 {
			t.Errorf("no alert with a for: watches increase(%s) for %v", c.metric, c.labels)
		}
	}
	// A request served, or refused for the gateway's own limits (which
	// the client retries), is no alert's business.
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			for _, result := range []string{"ok", "limit", "canceled"} {
				if strings.Contains(r.Expr, "increase(headroom_gateway_api_requests_total") && lets(r.Expr, "headroom_gateway_api_requests_total", map[string]string{"route": "apps", "result": result}) {
					t.Errorf("%s: fires on /api/v1 requests of result %s", r.Alert, result)
				}
			}
		}
	}
}

// TestAlertSumsSurviveAnAbsentSide: PromQL's a + b matches series by
// their labels, and an aggregation over no series is no series, so
// sum(x) + sum(y) is empty whenever either side is: an alert adding two
// counters would never fire for the one that exists (the rules deployed
// before the binaries that export the other, or a scrape config dropping
// it). Every operand of a top-level + in a rule's expression must be
// guarded, as (… or vector(0)).
func TestAlertSumsSurviveAnAbsentSide(t *testing.T) {
	file := loadAlerts(t)
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			terms := topLevelTerms(r.Expr)
			if len(terms) < 2 {
				continue
			}
			for _, term := range terms {
				if !guarded(term) {
					t.Errorf("%s: the term %q of a sum is empty when its series are absent, and so is the sum: write (… or vector(0))", r.Alert, term)
				}
			}
		}
	}
	// The check itself, on expressions whose answer is known.
	for _, c := range []struct {
		expr string
		ok   bool
	}{
		{`sum(increase(a[5m])) + sum(increase(b[5m])) > 0`, false},
		{`(sum(increase(a[5m])) or vector(0)) + sum(increase(b[5m])) > 0`, false},
		{`(sum(increase(a[5m])) or vector(0)) + (sum(increase(b{x="+"}[5m])) or vector(0)) > 0`, true},
		{`sum(increase(a[5m])) > 0`, true},
	} {
		ok := true
		if terms := topLevelTerms(c.expr); len(terms) > 1 {
			for _, term := range terms {
				ok = ok && guarded(term)
			}
		}
		if ok != c.ok {
			t.Errorf("%s: guarded %v, want %v", c.expr, ok, c.ok)
		}
	}
}

// topLevelTerms splits expr, up to its first top-level comparison, at its
// top-level + operators (outside parentheses, brackets, braces and
// quotes).
func topLevelTerms(expr string) []string {
	var terms []string
	depth, start, quoted := 0, 0, false
	for i := 0; i < len(expr); i++ {
		switch ch := expr[i]; {
		case quoted:
			if ch == '\\' {
				i++
			} else if ch == '"' {
				quoted = false
			}
		case ch == '"':
			quoted = true
		case ch == '(' || ch == '[' || ch == '{':
			depth++
		case ch == ')' || ch == ']' || ch == '}':
			depth--
		case depth == 0 && (ch == '>' || ch == '<' || ch == '=' || ch == '!'):
			return append(terms, strings.TrimSpace(expr[start:i]))
		case depth == 0 && ch == '+':
			terms = append(terms, strings.TrimSpace(expr[start:i]))
			start = i + 1
		}
	}
	return append(terms, strings.TrimSpace(expr[start:]))
}

// guarded reports whether term is parenthesised and falls back on a
// vector(…) when its series are absent.
func guarded(term string) bool {
	return strings.HasPrefix(term, "(") && strings.HasSuffix(term, ")") && strings.Contains(term, " or vector(")
}
