package kubetest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/headroomhq/headroom/internal/allinone"
	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/ingest"
	"github.com/headroomhq/headroom/internal/kubetest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/shop"
	"github.com/headroomhq/headroom/proto"
)

// The pipeline test's shape. Live ticks come every liveTick of wall-clock
// time (event time is real time: a real driver acts at speed 1); history is
// one tick a minute. The forecaster works on one-minute buckets here (5 in
// production) so that the surge can be placed on the next whole minute
// instead of up to five minutes away.
const (
	liveTick     = 2 * time.Second
	historyTick  = time.Minute
	historyLen   = 48*time.Hour + 15*time.Minute // the seasonal-naive model fits on two days
	forecastStep = time.Minute
	surgeFactor  = 3.0
	surgeLen     = 30 * time.Minute
	// baseRPS is the web demand at the test's start, so the replica counts
	// stay small (web ~4, cache ~3, db ~2 at 70 %; about ×3 in the surge).
	baseRPS = 150.0
	// pipelineToken is the push API's token (a real driver is live).
	pipelineToken = "kubetest-push-token"
)

// pipelineLeads are the tiers' lead times in the configuration: each pod's
// boot delay (tierDelays, the 1, 3 and 10 minutes ÷ 30) plus one live tick,
// the time from a tick to the decision it releases.
var pipelineLeads = map[string]time.Duration{"web": 4 * time.Second, "cache": 8 * time.Second, "db": 22 * time.Second}

// surgeShop is the simulated shop's demand (its daily pattern and noise,
// without its random incidents) scaled to baseRPS, times surgeFactor for
// surgeLen from the surge's time of day once that is set; the shop model
// turns it into every tier's metrics given the replicas ready.
//
// The model runs on a synthetic clock: the test's start is shopAnchor
// (to the minute), so what the shop does on either side of it is the same
// whenever the test runs. On the wall clock the forecast of today's sale
// (yesterday's ×3) depended on the day and hour: on a Monday yesterday was
// a Sunday (the shop's weekend demand is ×0.75) and the day-to-day level
// moves through the day, so the forecast max came within noise of twice
// the load (1.89 to 1.99 on a Monday at 16:20 UTC).
type surgeShop struct {
	m     *shop.Model
	shift time.Duration // the model's time less the wall clock's
	scale float64
	surge time.Time // today's surge start (zero: none yet)
}

// shopAnchor is the model time the test starts at: a Wednesday noon, so
// the two days of history are weekdays and the weekend's blend around
// midnight is far. From it, yesterday's sale read at the surge's minute is
// 2.6 to 3.5 times each tier's load a lead time before the surge (what
// checkSurgeTimeline wants at least twice), for any surge 40 s to 30
// minutes after the start (the test places it 1 to 2 minutes after),
// computed from the model alone: on the wall clock that computation gave
// the web and cache ratios the failed runs' decisions recorded, to the
// hundredth (db's forecast, the larger of its own and cache's scaled, may
// be higher).
var shopAnchor = time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)

func newSurgeShop(t *testing.T, now time.Time) *surgeShop {
	t.Helper()
	cfg := shop.DefaultConfig()
	// The daily pattern and noise stay; the random incidents go, so the
	// only surge is the daily one the test places.
	cfg.Spike.Probability, cfg.SlowDB.Probability, cfg.Bursts.Probability = 0, 0, 0
	m, err := shop.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &surgeShop{m: m, shift: shopAnchor.Sub(now.Truncate(time.Minute))}
	s.scale = baseRPS / m.Demand(s.model(now))
	return s
}

// model returns the model's time at wall-clock time t: a whole number of
// minutes apart, so the history's ticks, on the minute, are on the minute
// in the model too.
func (s *surgeShop) model(t time.Time) time.Time { return t.Add(s.shift) }

// inSurge reports whether t falls in a daily surge.
func (s *surgeShop) inSurge(t time.Time) bool {
	const day = 24 * time.Hour
	if s.surge.IsZero() {
		return false
	}
	off := (t.Sub(s.surge)%day + day) % day
	return off < surgeLen
}

func (s *surgeShop) demand(t time.Time) float64 {
	d := s.m.Demand(s.model(t)) * s.scale
	if s.inSurge(t) {
		d *= surgeFactor
	}
	return d
}

// loads returns each tier's nominal load at t.
func (s *surgeShop) loads(t time.Time) map[string]float64 {
	ratio := s.demand(t) / s.m.Demand(s.model(t))
	out := map[string]float64{}
	for tier, l := range s.m.NominalLoads(s.model(t)) {
		out[tier] = l * ratio
	}
	return out
}

// provisioned returns the replicas that serve the loads at t at 70 %
// utilisation: what the history ran with.
func (s *surgeShop) provisioned(t time.Time) map[string]int {
	return s.replicasAt(t, 0.7)
}

// replicasAt returns the replicas that serve the loads at t at the given
// utilisation.
func (s *surgeShop) replicasAt(t time.Time, target float64) map[string]int {
	out := map[string]int{}
	for tier, l := range s.loads(t) {
		out[tier] = s.m.NeededReplicas(tier, l, target)
	}
	return out
}

// pushTick is one tick in the push API's JSON.
type pushTick struct {
	App      string             `json:"app"`
	Tier     string             `json:"tier"`
	Time     int64              `json:"time"`
	Replicas int                `json:"replicas"`
	Values   map[string]float64 `json:"values"`
}

func (s *surgeShop) ticks(t time.Time, ready map[string]int) []pushTick {
	var out []pushTick
	for _, smp := range s.m.TickWithDemand(s.model(t), ready, s.demand(t)) {
		out = append(out, pushTick{App: "shop", Tier: smp.Tier, Time: proto.Millis(t), Replicas: smp.Ready, Values: smp.Values})
	}
	return out
}

// pusher posts ticks to the collector's push API, as an application's
// metrics agent would.
type pusher struct {
	url string
	hc  *http.Client
}

func (p pusher) post(ctx context.Context, ticks []pushTick) error {
	body, err := json.Marshal(ticks)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+pipelineToken)
	resp, err := p.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("push: %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// clusterLog records every change of the shop's Deployments as the API
// server reports it (an informer), with the wall-clock time it arrived.
type clusterLog struct {
	mu      sync.Mutex
	changes map[string][]clusterState
}

type clusterState struct {
	at          time.Time
	spec, ready int
}

func (l *clusterLog) record(obj any) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok || d.Spec.Replicas == nil {
		return
	}
	st := clusterState{at: time.Now(), spec: int(*d.Spec.Replicas), ready: int(d.Status.ReadyReplicas)}
	l.mu.Lock()
	defer l.mu.Unlock()
	cs := l.changes[d.Name]
	if n := len(cs); n > 0 && cs[n-1].spec == st.spec && cs[n-1].ready == st.ready {
		return
	}
	l.changes[d.Name] = append(cs, st)
}

// first returns when tier's Deployment first met cond, if it did.
func (l *clusterLog) first(tier string, cond func(clusterState) bool) (clusterState, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.changes[tier] {
		if cond(c) {
			return c, true
		}
	}
	return clusterState{}, false
}

func (l *clusterLog) at(tier string, t time.Time) clusterState {
	l.mu.Lock()
	defer l.mu.Unlock()
	var last clusterState
	for _, c := range l.changes[tier] {
		if c.at.After(t) {
			break
		}
		last = c
	}
	return last
}

// near reports whether tier's Deployment met cond at some moment within a
// live tick of t: a tick's ready count is read just before it is pushed,
// and the executor's record it carries may be a moment older or newer.
func (l *clusterLog) near(tier string, t time.Time, cond func(clusterState) bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	from, to := t.Add(-liveTick), t.Add(liveTick)
	var before clusterState // the state in force when the window opens
	for _, c := range l.changes[tier] {
		switch {
		case c.at.After(to):
			return cond(before)
		case c.at.Before(from):
			before = c
		case cond(c):
			return true
		}
	}
	return cond(before)
}

// executorKubeconfig writes a kubeconfig that acts as the executor's
// service account (deploy/kubernetes), so the driver has exactly the
// shipped RBAC.
func executorKubeconfig(t *testing.T, cl *kubetest.Cluster) string {
	t.Helper()
	kc, err := clientcmd.LoadFromFile(cl.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, ai := range kc.AuthInfos {
		ai.Impersonate = executorIdentity
	}
	path := filepath.Join(t.TempDir(), "executor.kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

const pipelineConfig = `push:
  token: ` + pipelineToken + `
apps:
  shop:
    source: push
    mode: live
    policy:
      tick: 2s
    tiers:
      - {name: web, lead_time: %s, workload: shop/deployment/web}
      - {name: cache, upstream: web, lead_time: %s, workload: shop/deployment/cache}
      - {name: db, upstream: cache, lead_time: %s, workload: shop/deployment/db}
`

// TestPipelineScalesAheadOfSurge runs the whole pipeline (collector push
// API, forecaster, anomaly detector, decider, executor with the kubernetes
// driver, on the all-in-one's embedded NATS) against the real control
// plane, in real time: event time is wall-clock time, as a real driver
// requires.
//
// Yesterday the shop had a flash sale (web demand ×3 for 30 minutes) at the
// time of day the test places today's, on a minute boundary shortly ahead.
// Two days of history (one tick a minute) are pushed, then live ticks every
// 2 s with the replicas the cluster reports ready. The forecast expects the
// sale, so the decider scales each tier its lead time ahead: every
// Deployment is patched up before the surge arrives, and the decisions'
// inputs show the new replicas booting, then ready, as the cluster reports
// them.
//
// The history goes in two parts so the test adapts to the machine's speed:
// the older part first (no surge in it); once the pipeline has digested it,
// today's surge is placed far enough ahead for the last day (holding
// yesterday's surge) to be digested too, at the rate just measured.
func TestPipelineScalesAheadOfSurge(t *testing.T) {
	cl := kubetest.Start(t, kubetest.Options{})
	began := time.Now()
	for _, l := range cl.Timeline {
		t.Log("control plane: " + l)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, ns := range []string{"headroom", "shop"} {
		if _, err := cl.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	applyFiles(t, cl, false, "executor.yaml", "rbac.yaml")

	sh := newSurgeShop(t, time.Now())
	steady := sh.provisioned(time.Now())

	// The Deployments start with what the history runs with now (pods
	// boot in 2, 6 and 20 s); an informer records every change.
	log := &clusterLog{changes: map[string][]clusterState{}}
	inf := informers.NewSharedInformerFactoryWithOptions(cl.Client, 0, informers.WithNamespace("shop"))
	di := inf.Apps().V1().Deployments()
	if _, err := di.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: log.record, UpdateFunc: func(_, o any) { log.record(o) },
	}); err != nil {
		t.Fatal(err)
	}
	inf.Start(ctx.Done())
	for _, td := range tierDelays {
		if _, err := cl.Client.AppsV1().Deployments("shop").Create(ctx, newDeployment(td.name, int32(steady[td.name]), td.delay), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if !cache.WaitForCacheSync(ctx.Done(), di.Informer().HasSynced) {
		t.Fatal("deployment informer not synced")
	}

	// The all-in-one, its executor driving the cluster as the executor's
	// service account.
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "headroom.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, pipelineConfig, pipelineLeads["web"], pipelineLeads["cache"], pipelineLeads["db"]), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := allinone.DefaultConfig()
	cfg.HTTPAddr, cfg.NATSAddr, cfg.DataDir, cfg.ConfigFile = "127.0.0.1:0", "127.0.0.1:0", filepath.Join(dir, "data"), cfgPath
	cfg.Without = map[string]bool{"gateway": true}
	cfg.Forecaster.Model.Step, cfg.Decider.ForecastStep = forecastStep, forecastStep
	// Yesterday's sale is what the seasonal-naive model forecasts (the
	// model choice is internal/forecast's to test, the wiring this one's).
	// It needs two days to fit on; without a holdout to score it on (there
	// is one model), two days of history are enough.
	//
	// The default ensemble does not forecast a sale seen once. Measured
	// offline on this shop's demand (forecast.Series, default settings, the
	// surge's bucket forecast from the bucket before; actual 386 req/s
	// from 135): with yesterday's sale only, 2 to 8 days of history, 1- or
	// 5-minute buckets, it forecasts 135–150 (the level: seasonal naive
	// gets no weight on a holdout without a sale, and the decompositions'
	// robust daily profile drops a one-day spike). With the sale on 2 of
	// the last 3 days it forecasts 270–303 (5-minute buckets); on 2 of 4
	// days, 149; on each of 8 days, 291 (257 with 1-minute buckets).
	cfg.Forecaster.Model.Models, cfg.Forecaster.Model.Holdout = []string{"snaive"}, 0
	cfg.Executor.Driver = executor.DriverKubernetes
	cfg.Executor.Kubernetes.Kubeconfig = executorKubeconfig(t, cl)
	// The same targets as the file's workloads, given as the flag would:
	// executor.New validates its settings before it reads the file's.
	targets, err := executor.ParseKubeTargets("shop.web=shop/deployment/web,shop.cache=shop/deployment/cache,shop.db=shop/deployment/db")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Executor.Kubernetes.Targets = targets
	sys, stop := runAllInOne(t, cfg)
	defer stop()
	probe := connectTo(t, sys)
	p := pusher{url: "http://" + sys.HTTPAddr + ingest.Path, hc: &http.Client{Timeout: time.Minute}}
	pushHistory := func(from, to time.Time) int {
		var batch []pushTick
		n := 0
		for at := from; at.Before(to); at = at.Add(historyTick) {
			batch = append(batch, sh.ticks(at, sh.provisioned(at))...)
			if len(batch) >= 900 || !at.Add(historyTick).Before(to) {
				if err := p.post(ctx, batch); err != nil {
					t.Fatal(err)
				}
				n += len(batch)
				batch = batch[:0]
			}
		}
		return n
	}

	// History, older part: from two days and a quarter of an hour ago to a
	// day and ten minutes ago.
	now := time.Now().Truncate(historyTick)
	histStart, split := now.Add(-historyLen), now.Add(-24*time.Hour-10*time.Minute)
	phase := time.Now()
	n1 := pushHistory(histStart, split)
	if at := waitDecided(probe, split.Add(-2*historyTick), time.Now().Add(3*time.Minute)); at.IsZero() {
		t.Fatal("the pipeline did not digest the older history in 3 minutes")
	}
	took := time.Since(phase)
	t.Logf("%.1fs: %d ticks of older history (%s .. %s) pushed and decided in %.1fs", time.Since(began).Seconds(), n1,
		histStart.Format("Jan 2 15:04"), split.Add(-historyTick).Format("Jan 2 15:04"), took.Seconds())

	// The Deployments' first pods are ready (db's boot for 20 s): live
	// ticks, which carry the cluster's ready counts, start after that.
	waitCtx, cancelWait := context.WithTimeout(ctx, time.Minute)
	defer cancelWait()
	for _, td := range tierDelays {
		if err := kubetest.Until(waitCtx, td.name+" ready", func() (bool, error) {
			d, err := di.Lister().Deployments("shop").Get(td.name)
			return err == nil && int(d.Status.ReadyReplicas) == steady[td.name], nil
		}); err != nil {
			t.Fatal(err)
		}
	}

	// Today's surge: on the first whole minute after the rest of the
	// history is digested (allowing 1.5 times the time the older part
	// took), then the longest lead time, a tick and a few seconds.
	rest := time.Now().Truncate(historyTick).Sub(split)
	digest := time.Duration(1.5 * float64(took) * float64(rest) / float64(split.Sub(histStart)))
	surge := time.Now().Add(digest + pipelineLeads["db"] + liveTick + 4*time.Second).Truncate(time.Minute).Add(time.Minute)
	sh.surge = surge
	// need is what serves the surge's load at all (100 % utilisation, the
	// shop's true capacities): the test asks the cluster to have it before
	// the surge; the policy provisions more (its target and quantile).
	need := sh.replicasAt(surge, 1)
	t.Logf("surge at %s (in %.0fs): web demand %.0f → %.0f req/s; replicas serving it at 100%%: %v (at 70%%: before %v, in the surge %v)",
		surge.Format("15:04:05"), time.Until(surge).Seconds(), sh.demand(surge.Add(-time.Second)), sh.demand(surge), need,
		sh.provisioned(surge.Add(-time.Second)), sh.provisioned(surge))

	// History, the last day: it holds yesterday's surge.
	histEnd := time.Now().Truncate(historyTick)
	n2 := pushHistory(split, histEnd)
	t.Logf("%.1fs: pushed %d ticks of the last day's history (%s .. %s)", time.Since(began).Seconds(), n2, split.Format("Jan 2 15:04"), histEnd.Add(-historyTick).Format("Jan 2 15:04"))

	// Live: every 2 s, each tier's tick with the replicas the cluster
	// reports ready (read from the API server, as a metrics agent would).
	liveErr := make(chan error, 1)
	liveCtx, stopLive := context.WithCancel(ctx)
	defer stopLive()
	go func() {
		next := time.Now().Truncate(liveTick).Add(liveTick)
		for {
			select {
			case <-liveCtx.Done():
				liveErr <- nil
				return
			case <-time.After(time.Until(next)):
			}
			ready := map[string]int{}
			for _, td := range tierDelays {
				d, err := di.Lister().Deployments("shop").Get(td.name)
				if err != nil {
					liveErr <- err
					return
				}
				ready[td.name] = int(d.Status.ReadyReplicas)
			}
			if err := p.post(liveCtx, sh.ticks(next, ready)); err != nil && liveCtx.Err() == nil {
				liveErr <- err
				return
			}
			next = next.Add(liveTick)
		}
	}()

	// The pipeline digests the last day (its last tick is released by the
	// first live one) before the longest lead window opens.
	lastHist := histEnd.Add(-historyTick)
	at := waitDecided(probe, lastHist, surge.Add(-pipelineLeads["db"]))
	if at.IsZero() {
		t.Fatalf("the pipeline had not digested the history %.0fs before the surge: it cannot scale db in time (the machine slowed down?)", time.Until(surge).Seconds())
	}
	t.Logf("%.1fs: history decided; surge in %.1fs", at.Sub(began).Seconds(), surge.Sub(at).Seconds())

	// Wait until every tier has, in the cluster, the replicas the surge
	// needs ready (or give up 40 s after the slowest boot).
	end := surge.Add(tierDelays[len(tierDelays)-1].delay + 40*time.Second)
	for {
		select {
		case err := <-liveErr:
			t.Fatalf("live ticks stopped: %v", err)
		default:
		}
		done := time.Now().After(surge.Add(5 * time.Second))
		for _, td := range tierDelays {
			if _, ok := log.first(td.name, func(c clusterState) bool { return c.ready >= need[td.name] }); !ok {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(end) {
			t.Errorf("not every tier ready for the surge %.0fs after it began", time.Since(surge).Seconds())
			break
		}
		time.Sleep(200 * time.Millisecond) // polls the informer's record of three Deployments
	}
	// Two more ticks through the decider so its inputs show the last state.
	time.Sleep(2 * liveTick)
	stopLive()
	if err := <-liveErr; err != nil {
		t.Fatal(err)
	}

	liveStart := lastHist.Add(time.Millisecond)
	decisions := map[string][]*proto.Decision{}
	for _, data := range natstest.Payloads(t, probe, "DECISIONS", "apm.decision.shop.>") {
		var d proto.Decision
		if err := proto.Decode(data, &d); err != nil {
			t.Fatal(err)
		}
		if d.TS >= proto.Millis(liveStart) {
			decisions[d.Tier] = append(decisions[d.Tier], &d)
		}
	}
	events := map[string][]proto.Scaling{}
	for _, data := range natstest.Payloads(t, probe, "SCALING", "apm.scaling.shop.*") {
		var e proto.Scaling
		if err := proto.Decode(data, &e); err != nil {
			t.Fatal(err)
		}
		if e.TS >= proto.Millis(liveStart) {
			events[e.Tier] = append(events[e.Tier], e)
		}
	}
	checkSurgeTimeline(t, surge, need, decisions, events, log, began)
}

// checkSurgeTimeline checks, per tier, that a decision made before the
// surge, from a forecast of it, scaled the tier to what the surge needs,
// that the cluster had the new spec before the surge, and that the
// decider's inputs showed the new replicas booting and then ready as the
// cluster reported them; it logs the merged timeline.
func checkSurgeTimeline(t *testing.T, surge time.Time, need map[string]int, decisions map[string][]*proto.Decision, events map[string][]proto.Scaling, log *clusterLog, began time.Time) {
	t.Helper()
	rel := func(at time.Time) string { return fmt.Sprintf("S%+6.1fs", at.Sub(surge).Seconds()) }
	type entry struct {
		at   time.Time
		line string
	}
	var timeline []entry
	add := func(at time.Time, format string, args ...any) {
		timeline = append(timeline, entry{at, rel(at) + " " + fmt.Sprintf(format, args...)})
	}
	for _, td := range tierDelays {
		tier := td.name
		// Every change decided live, and what the executor did with it.
		for _, d := range decisions[tier] {
			if d.Action == proto.ActionHold {
				continue
			}
			add(proto.Time(d.TS), "%s decided %d→%d (ready %v, booting %v)", tier, d.From, d.To, d.Inputs["ready"], d.Inputs["booting"])
			for _, e := range events[tier] {
				if e.DecisionID == d.ID {
					add(proto.Time(e.TS), "%s executor: %s, desired %d, ready %d, booting %d %s%s", tier, e.Status, e.Desired, e.Ready, e.Booting, e.Reason, e.Error)
				}
			}
		}
		var up *proto.Decision
		for _, d := range decisions[tier] {
			if d.Action == proto.ActionUp && d.To >= need[tier] {
				up = d
				break
			}
		}
		if up == nil {
			t.Errorf("%s: no decision scaled it to the %d replicas that serve the surge", tier, need[tier])
			continue
		}
		decidedAt := proto.Time(up.TS)
		add(decidedAt, "%s the surge's decision, on the tick of %s: load %.0f, forecast max %.0f: %s", tier,
			decidedAt.Format("15:04:05"), up.Inputs["load"], up.Inputs["forecast_max"], up.Reason)
		if !decidedAt.Before(surge) {
			t.Errorf("%s: scaled up on the tick of %s, not before the surge at %s", tier, decidedAt.Format("15:04:05"), surge.Format("15:04:05"))
		}
		if fm, load := up.Inputs["forecast_max"], up.Inputs["load"]; !(fm >= 2*load) {
			t.Errorf("%s: the scale-up's forecast max %.0f is not the surge (load %.0f): it reacted instead of forecasting", tier, fm, load)
		}
		patched, ok := log.first(tier, func(c clusterState) bool { return c.spec >= need[tier] })
		if !ok {
			t.Errorf("%s: spec.replicas never reached %d", tier, need[tier])
			continue
		}
		add(patched.at, "%s cluster: spec.replicas %d (ready %d)", tier, patched.spec, patched.ready)
		if !patched.at.Before(surge) {
			t.Errorf("%s: patched to %d at %s, not before the surge", tier, patched.spec, rel(patched.at))
		}
		if ready, ok := log.first(tier, func(c clusterState) bool { return c.ready >= need[tier] }); ok {
			add(ready.at, "%s cluster: %d ready of %d (%.1fs after the patch; pods boot in %v)", tier, ready.ready, ready.spec, ready.at.Sub(patched.at).Seconds(), td.delay)
			// The lead time is the boot delay plus a tick, so the pods are
			// meant to be ready as the surge arrives; 5 s of slack for a
			// loaded machine.
			if ready.at.After(surge.Add(5 * time.Second)) {
				t.Errorf("%s: %d ready only at %s", tier, ready.ready, rel(ready.at))
			}
		}
		if all, ok := log.first(tier, func(c clusterState) bool { return c.spec >= up.To && c.ready == c.spec }); ok {
			add(all.at, "%s cluster: all %d ready", tier, all.ready)
		}
		// The decider's inputs from the scale-up on: ready as pushed from
		// the cluster, booting from the executor's record of it.
		var last string
		sawBooting := false
		for _, d := range decisions[tier] {
			if d.TS < up.TS {
				continue
			}
			ready, booting := int(d.Inputs["ready"]), int(d.Inputs["booting"])
			if booting > 0 {
				sawBooting = true
			}
			if s := fmt.Sprintf("ready %d, booting %d", ready, booting); s != last {
				last = s
				tick := proto.Time(d.TS)
				c := log.at(tier, tick)
				add(tick, "%s decider inputs: %s (cluster then: %d ready of %d) → %d", tier, s, c.ready, c.spec, d.To)
				// Booting is the executor's recorded desired count less
				// ready, and for a tier the kubernetes driver reads that
				// count is the workload's spec.replicas.
				if n := ready + booting; !log.near(tier, tick, func(c clusterState) bool { return c.spec == n }) {
					t.Errorf("%s: the decider's ready+booting %d at %s is not the cluster's desired %d", tier, n, rel(tick), c.spec)
				}
				if !log.near(tier, tick, func(c clusterState) bool { return c.ready == ready }) {
					t.Errorf("%s: the decider's ready %d at %s is not the cluster's %d", tier, ready, rel(tick), c.ready)
				}
			}
		}
		if !sawBooting {
			t.Errorf("%s: no decision saw the new replicas booting", tier)
		}
		if n := len(decisions[tier]); n > 0 {
			// The last decision's inputs are the cluster's: its ready
			// count and its desired count (ready + booting), within a
			// tick of the decision's (a patch may land between the tick
			// and the decision it releases).
			d := decisions[tier][n-1]
			ready, booting := int(d.Inputs["ready"]), int(d.Inputs["booting"])
			if !log.near(tier, proto.Time(d.TS), func(c clusterState) bool { return c.ready == ready && c.spec == ready+booting }) {
				c := log.at(tier, proto.Time(d.TS))
				t.Errorf("%s: the last decision's inputs are ready %d, booting %d; the cluster had %d ready of %d", tier, ready, booting, c.ready, c.spec)
			}
		}
	}
	sort.SliceStable(timeline, func(i, j int) bool { return timeline[i].at.Before(timeline[j].at) })
	lines := make([]string, len(timeline))
	for i, e := range timeline {
		lines[i] = e.line
	}
	t.Logf("timeline (S = surge at %s; the test ran %.0fs after the control plane started):\n%s", surge.Format("15:04:05"), time.Since(began).Seconds(), strings.Join(lines, "\n"))
}

// runAllInOne starts the all-in-one and waits until every part is ready.
func runAllInOne(t *testing.T, cfg allinone.Config) (*allinone.System, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	up := make(chan *allinone.System, 1)
	done := make(chan error, 1)
	go func() {
		done <- allinone.Run(ctx, cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), func(s *allinone.System) { up <- s })
	}()
	var sys *allinone.System
	select {
	case sys = <-up:
	case err := <-done:
		cancel()
		t.Fatalf("all-in-one did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("all-in-one did not start in 30s")
	}
	natstest.Eventually(t, 30*time.Second, sys.Ready.Err)
	stopped := false
	return sys, func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("all-in-one: %v", err)
		}
	}
}

// connectTo joins the all-in-one's NATS under its own identity.
func connectTo(t *testing.T, sys *allinone.System) *bus.Bus {
	t.Helper()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name, cfg.User, cfg.Password = sys.NATSURL, "probe", sys.NATSUser, sys.NATSPassword
	b, err := bus.Connect(context.Background(), cfg, zerolog.Nop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	return b
}

// waitDecided waits until every shop tier's latest decision is for a tick
// at or after at, and returns when; the zero time if deadline passed first.
func waitDecided(b *bus.Bus, at, deadline time.Time) time.Time {
	ctx := context.Background()
	s, err := b.Reader(ctx, proto.KindDecision)
	if err != nil {
		return time.Time{}
	}
	decided := func() bool {
		for _, tier := range []string{"web", "cache", "db"} {
			m, err := s.Last(ctx, proto.DecisionSubject("apm", "shop", tier))
			if err != nil {
				return false
			}
			var d proto.Decision
			if err := proto.Decode(m.Data, &d); err != nil || proto.Time(d.TS).Before(at) {
				return false
			}
		}
		return true
	}
	for !decided() {
		if time.Now().After(deadline) {
			return time.Time{}
		}
		time.Sleep(100 * time.Millisecond) // polls the stream's last message per subject
	}
	return time.Now()
}
