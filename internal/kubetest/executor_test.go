package kubetest_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/config"
	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/kubetest"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
	"github.com/headroomhq/headroom/proto"
)

func TestMain(m *testing.M) {
	// Debian's etcd 3.4 cannot serve client-go's streaming watch lists.
	os.Setenv("KUBE_FEATURE_WatchListClient", "false")
	os.Exit(m.Run())
}

// The tiers' boot delays, the default policy's lead times (1, 3 and 10
// minutes) divided by 30.
var tierDelays = []struct {
	name  string
	delay time.Duration
}{{"web", 2 * time.Second}, {"cache", 6 * time.Second}, {"db", 20 * time.Second}}

// headroomConfig names the apps the executor may act on: shop live (its
// tiers with the default policy's lead times), preview in dry-run.
const headroomConfig = `apps:
  shop:
    source: push
    mode: live
    tiers:
      - {name: web, lead_time: 1m}
      - {name: cache, lead_time: 3m}
      - {name: db, lead_time: 10m}
  preview:
    source: push
    mode: dry-run
    tiers:
      - {name: web}
`

// executorIdentity is the executor's service account in deploy/kubernetes:
// the test's driver acts as it, so the shipped RBAC is what it is allowed.
const executorIdentity = "system:serviceaccount:headroom:headroom-executor"

// newDeployment returns a Deployment of n replicas on the KWOK nodes whose
// pods become ready after delay.
func newDeployment(name string, n int32, delay time.Duration) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	zero := int64(0)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &n,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{kubetest.ReadyDelayAnnotation: delay.String()}},
				Spec: corev1.PodSpec{
					NodeSelector:                  map[string]string{kubetest.NodeLabel: "kwok"},
					TerminationGracePeriodSeconds: &zero,
					Containers:                    []corev1.Container{{Name: name, Image: "example.invalid/" + name}},
				},
			},
		},
	}
}

// world is the control plane, NATS and what the test records.
type world struct {
	t     *testing.T
	cl    *kubetest.Cluster
	kube  kubernetes.Interface
	natsU string
	probe *bus.Bus
	kv    *bus.Replicas
	start time.Time

	mu       sync.Mutex
	timeline []string
	lastTS   int64
}

// newWorld connects a probe to a fresh JetStream server beside the control
// plane cl, creates the streams and the replicas bucket, and makes the
// namespaces, the executor's service account and its RBAC exactly as
// deploy/kubernetes ships them.
func newWorld(t *testing.T, cl *kubetest.Cluster) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, cl: cl, kube: cl.Client, natsU: natstest.RunJetStream(t)}
	w.probe = w.connect("probe")
	if err := w.probe.EnsureStreams(ctx); err != nil {
		t.Fatal(err)
	}
	kv, err := w.probe.Replicas(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.kv = kv
	for _, ns := range []string{"headroom", "shop"} {
		if _, err := cl.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	applyFiles(t, cl, false, "executor.yaml", "rbac.yaml")
	return w
}

func (w *world) logf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	line := fmt.Sprintf("%7.2fs ", time.Since(w.start).Seconds()) + fmt.Sprintf(format, args...)
	w.timeline = append(w.timeline, line)
	w.t.Log(line)
}

func (w *world) connect(name string) *bus.Bus {
	w.t.Helper()
	cfg := bus.DefaultConfig()
	cfg.URL, cfg.Name = w.natsU, name
	b, err := bus.Connect(context.Background(), cfg, zerolog.New(zerolog.NewTestWriter(w.t)).Level(zerolog.InfoLevel), prometheus.NewRegistry())
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { _ = b.Close(5 * time.Second) })
	return b
}

// startExecutor runs an executor whose kubernetes driver acts as the
// executor's service account; stop ends it as a killed process would end
// (its context cancelled, nothing flushed beyond what the bus does).
func (w *world) startExecutor() (stop func()) {
	w.t.Helper()
	return w.startExecutorWrapped(nil)
}

// startExecutorWrapped is startExecutor with the driver's requests sent
// through wrap (nil: as they are).
func (w *world) startExecutorWrapped(wrap func(http.RoundTripper) http.RoundTripper) (stop func()) {
	w.t.Helper()
	rc := rest.CopyConfig(w.cl.Config)
	rc.Impersonate = rest.ImpersonationConfig{UserName: executorIdentity}
	if wrap != nil {
		rc.Wrap(wrap)
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		w.t.Fatal(err)
	}
	targets, err := executor.ParseKubeTargets("shop.web=shop/deployment/web,shop.cache=shop/deployment/cache,shop.db=shop/deployment/db,preview.web=shop/deployment/web")
	if err != nil {
		w.t.Fatal(err)
	}
	drv := executor.NewKubeDriverForClient(client, executor.KubeConfig{Targets: targets, Timeout: 20 * time.Second, SyncTimeout: 30 * time.Second})
	file, err := config.Parse("headroom.yaml", []byte(headroomConfig))
	if err != nil {
		w.t.Fatal(err)
	}
	cfg := executor.DefaultConfig()
	cfg.Driver, cfg.Kubernetes.Targets = executor.DriverKubernetes, targets
	ready := service.NewReady()
	s, err := executor.New(cfg, service.Deps{Bus: w.connect("executor"), Log: zerolog.New(zerolog.NewTestWriter(w.t)).Level(zerolog.InfoLevel),
		Reg: prometheus.NewRegistry(), Ready: ready, Config: file}, executor.WithDriver(executor.DriverKubernetes, drv))
	if err != nil {
		w.t.Fatal(err)
	}
	serving := natstest.Serve(w.t, "executor", s.Run)
	stop = sync.OnceFunc(func() {
		serving()
		drv.Close()
	})
	w.t.Cleanup(stop)
	natstest.Eventually(w.t, 20*time.Second, ready.Err)
	return stop
}

// decide publishes a decision of app's tier, as the decider would, stamped
// now (strictly after the previous one).
func (w *world) decide(app, tier string, from, to int) *proto.Decision {
	w.t.Helper()
	w.mu.Lock()
	ts := max(proto.Millis(time.Now()), w.lastTS+1)
	w.lastTS = ts
	w.mu.Unlock()
	action := proto.ActionHold
	switch {
	case to > from:
		action = proto.ActionUp
	case to < from:
		action = proto.ActionDown
	}
	d := &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID(app, tier, ts), App: app, Tier: tier, TS: ts,
		From: from, To: to, Action: action, Reason: fmt.Sprintf("%s %d→%d (test)", tier, from, to), State: "steady"}
	if err := w.probe.Publish(context.Background(), bus.Out{Subject: proto.DecisionSubject("apm", app, tier), Msg: d}); err != nil {
		w.t.Fatal(err)
	}
	return d
}

// state waits until the executor's recorded state of d's tier covers d.
func (w *world) state(d *proto.Decision) *proto.ReplicaState {
	w.t.Helper()
	var st *proto.ReplicaState
	natstest.Eventually(w.t, 30*time.Second, func() error {
		var err error
		if st, err = executor.ReadState(context.Background(), w.kv, d.App, d.Tier); err != nil {
			return err
		}
		if st == nil || st.TS < d.TS {
			return fmt.Errorf("state %+v does not cover %s yet", st, d.ID)
		}
		return nil
	})
	return st
}

// events returns app's scaling events stored so far, in stream order.
func (w *world) events(app string) []proto.Scaling {
	w.t.Helper()
	var out []proto.Scaling
	for _, data := range natstest.Payloads(w.t, w.probe, "SCALING", proto.AppFilter("apm", proto.KindScaling, app)) {
		var sc proto.Scaling
		if err := proto.Decode(data, &sc); err != nil {
			w.t.Fatal(err)
		}
		out = append(out, sc)
	}
	return out
}

// waitEvent waits for a scaling event of d with the given status.
func (w *world) waitEvent(d *proto.Decision, status string) proto.Scaling {
	w.t.Helper()
	var found proto.Scaling
	natstest.Eventually(w.t, 30*time.Second, func() error {
		for _, e := range w.events(d.App) {
			if e.DecisionID == d.ID && e.Status == status {
				found = e
				return nil
			}
		}
		return fmt.Errorf("no %s event for %s", status, d.ID)
	})
	return found
}

func (w *world) deployment(name string) *appsv1.Deployment {
	w.t.Helper()
	d, err := w.kube.AppsV1().Deployments("shop").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	return d
}

// TestExecutorOnControlPlane runs the executor with the kubernetes driver
// against a real API server: it scales three Deployments whose pods boot in
// 2, 6 and 20 s, reports ready/booting as the cluster does while they boot,
// changes nothing in dry-run, refuses a workload under an HPA, and makes no
// duplicate or stale patch when killed mid-rollout and restarted.
func TestExecutorOnControlPlane(t *testing.T) {
	cl := kubetest.Start(t, kubetest.Options{})
	for _, l := range cl.Timeline {
		t.Log("control plane: " + l)
	}
	ctx := context.Background()
	w := newWorld(t, cl)

	for _, td := range tierDelays {
		if _, err := cl.Client.AppsV1().Deployments("shop").Create(ctx, newDeployment(td.name, 1, td.delay), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, td := range tierDelays {
		if err := kubetest.Until(waitCtx, td.name+" 1 ready", func() (bool, error) {
			return w.deployment(td.name).Status.ReadyReplicas == 1, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	w.start = time.Now()
	w.logf("web, cache, db: 1 ready replica each")

	stop := w.startExecutor()

	// 1. A surge: each tier scales up.
	want := map[string]int{"web": 4, "cache": 3, "db": 2}
	ups := map[string]*proto.Decision{}
	for _, td := range tierDelays {
		ups[td.name] = w.decide("shop", td.name, 1, want[td.name])
		w.logf("decision %s 1→%d", td.name, want[td.name])
	}
	patched := map[string]time.Time{}
	for _, td := range tierDelays {
		ev := w.waitEvent(ups[td.name], proto.StatusApplied)
		patched[td.name] = time.Now()
		w.logf("%s applied: desired %d, ready %d, booting %d", td.name, ev.Desired, ev.Ready, ev.Booting)
		if got := *w.deployment(td.name).Spec.Replicas; got != int32(want[td.name]) {
			t.Fatalf("%s: spec.replicas %d after the patch, want %d", td.name, got, want[td.name])
		}
		if ev.Ready+ev.Booting != want[td.name] || ev.Booting == 0 {
			t.Fatalf("%s applied event %+v: want the new replicas booting", td.name, ev)
		}
	}

	// 2. Ticks as the decider sends them (hold at the new count): the
	// recorded state follows the cluster's ready/booting counts.
	gen := map[string]int64{}
	for _, td := range tierDelays {
		gen[td.name] = w.deployment(td.name).Generation
	}
	readyAt := map[string]time.Time{}
	seen, seenCluster := map[string]string{}, map[string]string{}
	deadline := time.Now().Add(90 * time.Second)
	for len(readyAt) < len(tierDelays) {
		if time.Now().After(deadline) {
			t.Fatalf("tiers not all ready after 90 s: ready at %v", readyAt)
		}
		for _, td := range tierDelays {
			if _, done := readyAt[td.name]; done {
				continue
			}
			if dep := w.deployment(td.name); fmt.Sprint(dep.Status.ReadyReplicas) != seenCluster[td.name] {
				seenCluster[td.name] = fmt.Sprint(dep.Status.ReadyReplicas)
				w.logf("%s in the cluster: %d ready of %d", td.name, dep.Status.ReadyReplicas, *dep.Spec.Replicas)
			}
			st := w.state(w.decide("shop", td.name, want[td.name], want[td.name]))
			if s := fmt.Sprintf("ready %d booting %d", st.Ready, st.Booting); s != seen[td.name] {
				seen[td.name] = s
				w.logf("%s state: desired %d, %s", td.name, st.Desired, s)
			}
			if st.Ready+st.Booting != want[td.name] {
				t.Fatalf("%s state %+v: ready+booting != %d", td.name, st, want[td.name])
			}
			if st.Ready == want[td.name] && st.Booting == 0 {
				readyAt[td.name] = time.Now()
			}
		}
		time.Sleep(250 * time.Millisecond) // the decider's tick, scaled down
	}
	for _, td := range tierDelays {
		took := readyAt[td.name].Sub(patched[td.name])
		w.logf("%s: all %d ready %.1fs after the patch (pods boot in %v)", td.name, want[td.name], took.Seconds(), td.delay)
		if took < td.delay-time.Second {
			t.Errorf("%s ready after %v, before its boot delay %v", td.name, took, td.delay)
		}
		if g := w.deployment(td.name).Generation; g != gen[td.name] {
			t.Errorf("%s: generation %d → %d: hold ticks patched the workload", td.name, gen[td.name], g)
		}
	}

	// 3. Dry-run changes nothing in the cluster.
	webGen := w.deployment("web").Generation
	dry := w.decide("preview", "web", 4, 9)
	ev := w.waitEvent(dry, proto.StatusSkipped)
	w.logf("dry-run preview.web 4→9: %s, mode %s", ev.Status, ev.Mode)
	if d := w.deployment("web"); d.Generation != webGen || *d.Spec.Replicas != 4 {
		t.Fatalf("dry-run changed web: generation %d→%d, replicas %d", webGen, d.Generation, *d.Spec.Replicas)
	}

	// 4. An HPA on web blocks the action, with the reason on the event.
	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas: 10}}
	if _, err := cl.Client.AutoscalingV2().HorizontalPodAutoscalers("shop").Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	blocked := w.decide("shop", "web", 4, 6)
	ev = w.waitEvent(blocked, proto.StatusFailed)
	w.logf("with an HPA on web, shop.web 4→6: %s: %s", ev.Status, ev.Error)
	if !strings.Contains(ev.Error, "HorizontalPodAutoscaler shop/web already scales it") {
		t.Fatalf("reason %q does not name the HPA", ev.Error)
	}
	if d := w.deployment("web"); d.Generation != webGen || *d.Spec.Replicas != 4 {
		t.Fatalf("web changed despite the HPA: replicas %d", *d.Spec.Replicas)
	}
	if err := cl.Client.AutoscalingV2().HorizontalPodAutoscalers("shop").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	// 5. Killed mid-rollout: db scales 2→4 (20 s boot); the executor is
	// stopped while the new pods boot, then restarted.
	dbGen := w.deployment("db").Generation
	up := w.decide("shop", "db", 2, 4)
	w.waitEvent(up, proto.StatusApplied)
	w.logf("db 2→4 applied; killing the executor mid-rollout (db ready %d)", w.deployment("db").Status.ReadyReplicas)
	stop()
	if g := w.deployment("db").Generation; g != dbGen+1 {
		t.Fatalf("db generation %d, want %d (one patch)", g, dbGen+1)
	}
	// While it is down: the same decision again (a redelivery) and an older one.
	stale := &proto.Decision{V: proto.SchemaVersion, ID: proto.DecisionID("shop", "db", up.TS-1), App: "shop", Tier: "db", TS: up.TS - 1,
		From: 2, To: 3, Action: proto.ActionUp, Reason: "older than the one applied"}
	if err := w.probe.Publish(ctx, bus.Out{Subject: proto.DecisionSubject("apm", "shop", "db"), Msg: stale}); err != nil {
		t.Fatal(err)
	}
	// And, while it is down, a change that a later hold supersedes: after
	// the restart only the latest decision may act.
	superseded := w.decide("shop", "db", 4, 5)
	w.decide("shop", "db", 4, 4)
	stop = w.startExecutor()
	w.logf("executor restarted")
	ev = w.waitEvent(superseded, proto.StatusSkipped)
	w.logf("db 4→5 decided while the executor was down: %+v", ev)
	var st *proto.ReplicaState
	deadline = time.Now().Add(90 * time.Second)
	for {
		st = w.state(w.decide("shop", "db", 4, 4))
		if st.Ready == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("db not ready: %+v", st)
		}
		time.Sleep(250 * time.Millisecond)
	}
	w.logf("db state after restart: desired %d, ready %d, booting %d", st.Desired, st.Ready, st.Booting)
	if d := w.deployment("db"); d.Generation != dbGen+1 || *d.Spec.Replicas != 4 {
		t.Fatalf("db after restart: generation %d (want %d), replicas %d: a duplicate or stale patch", d.Generation, dbGen+1, *d.Spec.Replicas)
	}
	for _, e := range w.events("shop") {
		if (e.DecisionID == stale.ID || e.DecisionID == superseded.ID) && e.Status != proto.StatusSkipped {
			t.Fatalf("stale or superseded decision acted on: %+v", e)
		}
	}
	stop()
	t.Log("timeline:\n" + strings.Join(w.timeline, "\n"))
}

// TestDriverScalesStatefulSet scales a StatefulSet through its scale
// subresource as the executor's service account, and sees its pods become
// ready through the driver's watch.
func TestDriverScalesStatefulSet(t *testing.T) {
	cl := kubetest.Start(t, kubetest.Options{})
	ctx := context.Background()
	for _, ns := range []string{"headroom", "shop"} {
		if _, err := cl.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	applyFiles(t, cl, false, "rbac.yaml")
	d := newDeployment("db", 1, time.Second)
	sts := &appsv1.StatefulSet{ObjectMeta: d.ObjectMeta, Spec: appsv1.StatefulSetSpec{Replicas: d.Spec.Replicas, Selector: d.Spec.Selector,
		Template: d.Spec.Template, ServiceName: "db", PodManagementPolicy: appsv1.ParallelPodManagement}}
	if _, err := cl.Client.AppsV1().StatefulSets("shop").Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rc := rest.CopyConfig(cl.Config)
	rc.Impersonate = rest.ImpersonationConfig{UserName: executorIdentity}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	drv := executor.NewKubeDriverForClient(client, executor.KubeConfig{Targets: map[string]executor.KubeTarget{
		"shop.db": {Namespace: "shop", Kind: executor.KindStatefulSet, Name: "db"}}})
	defer drv.Close()
	r, err := drv.Scale(ctx, executor.Request{App: "shop", Tier: "db", Replicas: 3, DecisionID: "d1", Time: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Ready+r.Booting != 3 {
		t.Fatalf("scale result %+v", r)
	}
	got, err := cl.Client.AppsV1().StatefulSets("shop").Get(ctx, "db", metav1.GetOptions{})
	if err != nil || *got.Spec.Replicas != 3 {
		t.Fatalf("statefulset after the patch: %v %v", err, got.Spec.Replicas)
	}
	natstest.Eventually(t, 2*time.Minute, func() error {
		if r, ok := drv.Observe("shop", "db", time.Now()); !ok || r.Ready != 3 || r.Booting != 0 {
			return fmt.Errorf("observed %+v (%v)", r, ok)
		}
		return nil
	})
}

// TestStuckRolloutReported scales a Deployment whose new pods never become
// ready: once the controller marks the rollout past its progress deadline,
// the next decision's handling publishes a FAILED scaling event naming the
// decision that started it, and the state keeps the replicas as booting,
// not ready.
func TestStuckRolloutReported(t *testing.T) {
	cl := kubetest.Start(t, kubetest.Options{})
	ctx := context.Background()
	w := newWorld(t, cl)
	w.start = time.Now()
	// web's pods never become ready (an hour's delay); the controller gives
	// a rollout 5 s to progress. The others are there for the executor's
	// targets.
	for _, td := range tierDelays {
		delay := td.delay
		if td.name == "web" {
			delay = time.Hour
		}
		dep := newDeployment(td.name, 0, delay)
		deadline := int32(5)
		dep.Spec.ProgressDeadlineSeconds = &deadline
		if _, err := cl.Client.AppsV1().Deployments("shop").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	w.startExecutor()
	up := w.decide("shop", "web", 0, 2)
	ev := w.waitEvent(up, proto.StatusApplied)
	w.logf("web 0→2 applied: ready %d, booting %d", ev.Ready, ev.Booting)
	// Hold ticks, as the decider sends them, until the rollout is reported.
	deadline := time.Now().Add(90 * time.Second)
	var failed *proto.Scaling
	for failed == nil {
		if time.Now().After(deadline) {
			t.Fatalf("no failed event for %s within 90 s; deployment conditions: %+v", up.ID, w.deployment("web").Status.Conditions)
		}
		st := w.state(w.decide("shop", "web", 2, 2))
		if st.Ready != 0 || st.Booting != 2 {
			t.Fatalf("state %+v: want 0 ready, 2 booting", st)
		}
		for _, e := range w.events("shop") {
			if e.DecisionID == up.ID && e.Status == proto.StatusFailed {
				failed = &e
			}
		}
		time.Sleep(250 * time.Millisecond) // the decider's tick, scaled down
	}
	w.logf("failed event for %s: %q (ready %d, booting %d)", up.ID, failed.Error, failed.Ready, failed.Booting)
	if !strings.Contains(failed.Error, "2 booting replica(s) failed") {
		t.Fatalf("failed event says %q", failed.Error)
	}
	// Reported once per rollout: later ticks add no second failure.
	w.state(w.decide("shop", "web", 2, 2))
	n := 0
	for _, e := range w.events("shop") {
		if e.DecisionID == up.ID && e.Status == proto.StatusFailed {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d failed events for one stuck rollout, want 1", n)
	}
	t.Log("timeline:\n" + strings.Join(w.timeline, "\n"))
}
