package allinone_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/headroomhq/headroom/internal/allinone"
	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// These tests replay, against the whole system on an embedded server, the
// attacks of the "safe to point at production" review: Headroom runs the
// command driver with `kubectl scale …`, where kubectl is a fake on PATH
// that records every call, and each test asserts the refusal and the calls.

// fakeKubectl puts a kubectl on PATH that appends its arguments to a log,
// and returns the log's path.
func fakeKubectl(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "calls.log")
	script := "#!/bin/sh\necho \"$@\" >> '" + log + "'\n"
	if err := os.WriteFile(filepath.Join(dir, "kubectl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return log
}

// kubectlCalls reads the fake's log.
func kubectlCalls(t *testing.T, log string) []string {
	t.Helper()
	f, err := os.Open(log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// liveConfig writes a configuration naming shop (the simulated source) live
// with the command driver, a push token, and an app "api" taking pushes.
func liveConfig(t *testing.T, token string) allinone.Config {
	t.Helper()
	file := filepath.Join(t.TempDir(), "headroom.yaml")
	text := `push:
  token: ` + token + `
apps:
  shop:
    source: sim
    mode: live
    sim:
      backfill: 24h
    tiers:
      - name: web
      - name: cache
        upstream: web
      - name: db
        upstream: cache
  api:
    source: push
    mode: dry-run
    tiers:
      - name: frontend
`
	if token == "" {
		text = strings.Replace(text, "push:\n  token: \n", "", 1)
	}
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := allinone.DefaultConfig()
	cfg.HTTPAddr, cfg.NATSAddr, cfg.DataDir, cfg.ConfigFile = "127.0.0.1:0", "127.0.0.1:0", t.TempDir(), file
	cfg.Executor.Driver = executor.DriverCommand
	cfg.Executor.Command.Template = "kubectl scale deployment/{tier} --replicas={replicas} -n {app}"
	cfg.Forecaster.Model.Models = []string{"snaive", "naive"}
	return cfg
}

// TestRealDriverNeedsPushToken: with a real driver live and no push token
// the all-in-one refuses to start, naming the setting.
func TestRealDriverNeedsPushToken(t *testing.T) {
	fakeKubectl(t)
	cfg := liveConfig(t, "")
	err := allinone.Run(context.Background(), cfg, zerolog.Nop(), func(*allinone.System) { t.Error("started") })
	if err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("start without a push token: %v, want a refusal naming the token", err)
	}
}

// TestRealDriverNeedsRealTime: a real driver refuses simulated time.
func TestRealDriverNeedsRealTime(t *testing.T) {
	fakeKubectl(t)
	cfg := liveConfig(t, "s3cret-token-0123456789")
	cfg.Collector.Speed = 60
	err := allinone.Run(context.Background(), cfg, zerolog.Nop(), func(*allinone.System) { t.Error("started") })
	if err == nil || !strings.Contains(err.Error(), "-speed must be 1") {
		t.Fatalf("start at speed 60: %v", err)
	}
}

// TestAttacksOnTheLiveSystem starts Headroom live on the command driver
// after a day of backfilled history, then attacks it.
func TestAttacksOnTheLiveSystem(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	log := fakeKubectl(t)
	const token = "s3cret-token-0123456789"
	cfg := liveConfig(t, token)
	cfg.Collector.Tick = time.Minute
	r := start(t, cfg)
	base := "http://" + r.sys.HTTPAddr + "/api/v1/metrics"

	// Stale start: a day of history was decided at start; its decisions are
	// far older than any lead time, so nothing ran.
	natstest.WaitEventTime(t, r.b, "SCALING", []string{"apm.scaling.shop.web"}, time.Now().Add(-2*time.Hour), 2*time.Minute)
	if calls := kubectlCalls(t, log); len(calls) > 3 {
		t.Fatalf("%d kubectl calls after a backfilled day, want at most one per tier: %q", len(calls), calls)
	}
	stale := 0
	for _, sc := range all[proto.Scaling](t, r.b, "SCALING", "apm.scaling.shop.*") {
		if sc.Status == proto.StatusSkipped && strings.HasPrefix(sc.Reason, "stale: ") {
			stale++
		}
	}
	if stale == 0 {
		t.Fatal("no stale decision recorded: the backfill decided no change")
	}
	t.Logf("backfill: %d stale changes skipped, %d kubectl calls", stale, len(kubectlCalls(t, log)))
	before := len(kubectlCalls(t, log))

	// An unconfigured app pushed with the token is decided, never acted on;
	// without the token, from a form, or from a foreign page it is refused.
	now := time.Now().UTC().Truncate(time.Minute)
	var ticks []string
	for i := 720; i > 0; i-- {
		// Load that swings between idle and saturated on one replica.
		rps, cpu := 5, 0.01
		if i%120 < 60 {
			rps, cpu = 900, 0.97
		}
		ticks = append(ticks, fmt.Sprintf(`{"app":"kube-public","tier":"coredns","time":%q,"replicas":1,"values":{"rps":%d,"cpu":%v}}`,
			now.Add(-time.Duration(i)*time.Minute).Format(time.RFC3339), rps, cpu))
	}
	body := "[" + strings.Join(ticks, ",") + "]"
	post := func(contentType, origin, auth string) int {
		req, err := http.NewRequest(http.MethodPost, base, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range []struct {
		name, contentType, origin, auth string
		want                            int
	}{
		{"no token", "application/json", "", "", http.StatusUnauthorized},
		{"wrong token", "application/json", "", "guess", http.StatusUnauthorized},
		{"form post (CSRF's simple request)", "application/x-www-form-urlencoded", "", token, http.StatusUnsupportedMediaType},
		{"form post from a web page (CSRF)", "application/x-www-form-urlencoded", "http://evil.example", token, http.StatusForbidden},
		{"foreign origin", "application/json", "http://evil.example", token, http.StatusForbidden},
	} {
		if got := post(c.contentType, c.origin, c.auth); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if got := post("application/json", "", token); got != http.StatusAccepted {
		t.Fatalf("authorised push: %d", got)
	}
	natstest.Eventually(t, 2*time.Minute, func() error {
		ds := all[proto.Decision](t, r.b, "DECISIONS", "apm.decision.kube-public.coredns")
		if len(ds) < 719 {
			return fmt.Errorf("%d decisions for kube-public/coredns", len(ds))
		}
		return nil
	})
	// Pushing into the simulated shop is refused (its source is sim), and so
	// is a cpu utilisation of 500 %.
	for _, c := range []struct {
		tick string
		want int
	}{
		{fmt.Sprintf(`{"app":"shop","tier":"web","time":%q,"replicas":1,"values":{"rps":1,"cpu":0.5}}`, now.Format(time.RFC3339)), http.StatusConflict},
		{fmt.Sprintf(`{"app":"api","tier":"frontend","time":%q,"replicas":1,"values":{"rps":1,"cpu":5}}`, now.Format(time.RFC3339)), http.StatusBadRequest},
	} {
		header := map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token}
		if got := statusFor(t, http.MethodPost, base, "", header, c.tick); got != c.want {
			t.Errorf("push %s: %d, want %d", c.tick, got, c.want)
		}
	}
	// Give the executor every coredns decision, then count kubectl calls.
	natstest.WaitEventTime(t, r.b, "DECISIONS", []string{"apm.decision.kube-public.coredns"}, now.Add(-2*time.Minute), time.Minute)
	skipped := 0
	natstest.Eventually(t, time.Minute, func() error {
		skipped = 0
		for _, sc := range all[proto.Scaling](t, r.b, "SCALING", "apm.scaling.kube-public.coredns") {
			if sc.Status != proto.StatusSkipped || !strings.HasPrefix(sc.Reason, "not authorised") {
				return fmt.Errorf("coredns scaling event %+v", sc)
			}
			skipped++
		}
		if skipped == 0 {
			return fmt.Errorf("no coredns change recorded yet")
		}
		return nil
	})
	for _, c := range kubectlCalls(t, log)[before:] {
		if strings.Contains(c, "coredns") || strings.Contains(c, "kube-public") {
			t.Fatalf("kubectl ran for the unconfigured app: %q", c)
		}
	}
	t.Logf("unauthenticated/CSRF/foreign pushes refused; 720 authorised ticks of kube-public/coredns: %d changes recorded as not authorised, 0 kubectl calls", skipped)
}

// TestForeignSubjectIsDeadLettered publishes a tick naming app "victim" on
// the subject of shop.web: the forecaster, the anomaly service and the
// decider each dead-letter it, and nothing is made for either app from it.
func TestForeignSubjectIsDeadLettered(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end run")
	}
	liveStart := time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC)
	r := start(t, testConfig(t, liveStart, 3))
	b := connect(t, r.sys, "attacker")
	forged := proto.NewMetrics("victim", "web", liveStart.Add(24*time.Hour), 3, map[string]float64{proto.MetricRPS: 1e6})
	if err := b.Publish(context.Background(), bus.Out{Subject: proto.MetricsSubject("apm", "shop", "web"), Msg: forged}); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, time.Minute, func() error {
		services := map[string]bool{}
		for _, dl := range all[proto.DeadLetter](t, r.b, "DLQ", "apm.dlq.*") {
			if strings.Contains(dl.Error, "subject does not match payload") {
				services[dl.Service] = true
			}
		}
		for _, s := range []string{"forecaster", "anomaly", "decider"} {
			if !services[s] {
				return fmt.Errorf("no dead letter from %s yet (have %v)", s, services)
			}
		}
		return nil
	})
	for _, k := range []proto.Kind{proto.KindForecast, proto.KindAnomaly, proto.KindDecision} {
		if n := len(natstest.Payloads(t, r.b, k.Stream(), proto.AppFilter("apm", k, "victim"))); n != 0 {
			t.Errorf("%d %s messages for victim", n, k)
		}
	}
}
