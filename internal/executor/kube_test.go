package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/headroomhq/headroom/internal/natstest"
)

func TestParseKubeTargets(t *testing.T) {
	m, err := ParseKubeTargets("shop.web=shop/deployment/web, shop.db=data/sts/db-main")
	if err != nil {
		t.Fatal(err)
	}
	if m["shop.web"] != (KubeTarget{"shop", KindDeployment, "web"}) || m["shop.db"] != (KubeTarget{"data", KindStatefulSet, "db-main"}) {
		t.Fatalf("%+v", m)
	}
	for _, bad := range []string{"shop.web=shop/web", "shop.web=shop/daemonset/web", "shopweb=shop/deployment/web",
		"shop.web=Shop/deployment/web", "shop.web=shop/deployment/web,shop.web=shop/deployment/web2", "Shop.web=shop/deployment/web"} {
		if _, err := ParseKubeTargets(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	c := DefaultKubeConfig()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "targets is empty") {
		t.Fatalf("empty targets: %v", err)
	}
	c.targetsFlag = "shop.web=shop/deployment/web"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func deployment(ns, name string, replicas, ready int32) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: "1", Generation: 1},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas}, Status: appsv1.DeploymentStatus{ReadyReplicas: ready}}
}

// scaleRecorder makes the fake clientset apply merge patches on the scale
// subresource (checking the resourceVersion precondition as the API server
// does) and records them; failFirst answers the first n patches with err.
type scaleRecorder struct {
	mu        sync.Mutex
	patches   []string
	failFirst int
	err       error
}

func (s *scaleRecorder) install(c *fake.Clientset) {
	c.PrependReactor("patch", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		pa := a.(k8stesting.PatchAction)
		if pa.GetSubresource() != "scale" {
			return false, nil, nil
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.patches = append(s.patches, string(pa.GetPatch()))
		if s.failFirst > 0 {
			s.failFirst--
			return true, nil, s.err
		}
		var p struct {
			Metadata struct {
				ResourceVersion string `json:"resourceVersion"`
			} `json:"metadata"`
			Spec struct {
				Replicas int32 `json:"replicas"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(pa.GetPatch(), &p); err != nil {
			return true, nil, err
		}
		gvr := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
		o, err := c.Tracker().Get(gvr, pa.GetNamespace(), pa.GetName())
		if err != nil {
			return true, nil, err
		}
		d := o.(*appsv1.Deployment).DeepCopy()
		if p.Metadata.ResourceVersion != d.ResourceVersion {
			return true, nil, apierrors.NewConflict(gvr.GroupResource(), d.Name, errors.New("the object has been modified"))
		}
		d.Spec.Replicas = &p.Spec.Replicas
		d.Generation++
		d.ResourceVersion = fmt.Sprint(d.Generation)
		return true, nil, c.Tracker().Update(gvr, d, d.Namespace)
	})
}

func (s *scaleRecorder) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.patches)
}

func newFakeKube(t *testing.T, objs ...runtime.Object) (*KubeDriver, *fake.Clientset, *scaleRecorder) {
	t.Helper()
	c := fake.NewClientset(objs...)
	rec := &scaleRecorder{}
	rec.install(c)
	d := NewKubeDriverForClient(c, KubeConfig{Targets: map[string]KubeTarget{
		"shop.web": {"shop", KindDeployment, "web"}, "shop.db": {"shop", KindStatefulSet, "db"},
	}, Timeout: 5 * time.Second, SyncTimeout: 5 * time.Second})
	t.Cleanup(d.Close)
	return d, c, rec
}

func TestKubeScalePatchesOnceAndIsIdempotent(t *testing.T) {
	d, c, rec := newFakeKube(t, deployment("shop", "web", 3, 3))
	ctx := context.Background()
	r, err := d.Scale(ctx, Request{App: "shop", Tier: "web", Replicas: 5, DecisionID: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	if r != (Result{Ready: 3, Booting: 2, Cluster: true}) {
		t.Fatalf("result %+v, want 3 ready 2 booting", r)
	}
	got, _ := c.AppsV1().Deployments("shop").Get(ctx, "web", metav1.GetOptions{})
	if *got.Spec.Replicas != 5 {
		t.Fatalf("replicas %d", *got.Spec.Replicas)
	}
	// The same request again (a redelivery after a crash): no second patch.
	if _, err := d.Scale(ctx, Request{App: "shop", Tier: "web", Replicas: 5, DecisionID: "d1"}); err != nil {
		t.Fatal(err)
	}
	if n := rec.count(); n != 1 {
		t.Fatalf("%d patches, want 1", n)
	}
	if !strings.Contains(rec.patches[0], `"resourceVersion":"1"`) || !strings.Contains(rec.patches[0], `"replicas":5`) {
		t.Fatalf("patch %s", rec.patches[0])
	}
	// Scaling down reports the kept replicas as ready.
	if r, err := d.Scale(ctx, Request{App: "shop", Tier: "web", Replicas: 2}); err != nil || r != (Result{Ready: 2, Cluster: true}) {
		t.Fatalf("down: %+v %v", r, err)
	}
}

func TestKubeScaleRetriesConflicts(t *testing.T) {
	d, _, rec := newFakeKube(t, deployment("shop", "web", 3, 3))
	gr := schema.GroupResource{Group: "apps", Resource: "deployments"}
	rec.failFirst, rec.err = 2, apierrors.NewConflict(gr, "web", errors.New("modified"))
	if _, err := d.Scale(context.Background(), Request{App: "shop", Tier: "web", Replicas: 4}); err != nil {
		t.Fatal(err)
	}
	if n := rec.count(); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
}

func TestKubeScalePermanentErrors(t *testing.T) {
	d, _, rec := newFakeKube(t, deployment("shop", "web", 3, 3))
	rec.failFirst, rec.err = 5, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments/scale"}, "web", errors.New("no RBAC"))
	_, err := d.Scale(context.Background(), Request{App: "shop", Tier: "web", Replicas: 4})
	if err == nil || !strings.Contains(err.Error(), "forbidden") || rec.count() != 1 {
		t.Fatalf("err %v after %d attempts, want one forbidden attempt", err, rec.count())
	}
	// A tier with no configured workload is refused before any call.
	_, err = d.Scale(context.Background(), Request{App: "other", Tier: "web", Replicas: 4})
	if err == nil || !strings.Contains(err.Error(), "no workload configured for other.web") {
		t.Fatalf("unconfigured: %v", err)
	}
	// A workload that does not exist: not found, no retry loop.
	_, err = d.Scale(context.Background(), Request{App: "shop", Tier: "db", Replicas: 4})
	if err == nil || !apierrors.IsNotFound(errors.Unwrap(errors.Unwrap(err))) && !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing workload: %v", err)
	}
}

func TestKubeRefusesWorkloadUnderHPA(t *testing.T) {
	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-hpa"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}, MaxReplicas: 10}}
	other := hpa.DeepCopy()
	other.Name, other.Spec.ScaleTargetRef.Name = "api-hpa", "api"
	d, _, rec := newFakeKube(t, deployment("shop", "web", 3, 3), hpa, other)
	_, err := d.Scale(context.Background(), Request{App: "shop", Tier: "web", Replicas: 6})
	var conflict *HPAConflictError
	if !errors.As(err, &conflict) || conflict.HPA != "web-hpa" {
		t.Fatalf("err %v, want an HPA conflict naming web-hpa", err)
	}
	if !strings.Contains(err.Error(), "HorizontalPodAutoscaler shop/web-hpa already scales it") {
		t.Fatalf("reason %q", err)
	}
	if rec.count() != 0 {
		t.Fatalf("%d patches despite the HPA", rec.count())
	}
}

func TestKubeObserve(t *testing.T) {
	dep := deployment("shop", "web", 5, 2)
	d, c, _ := newFakeKube(t, dep)
	r, ok := d.Observe("shop", "web", time.Time{})
	if !ok || r != (Result{Ready: 2, Booting: 3, Cluster: true}) {
		t.Fatalf("observe %+v %v, want 2 ready 3 booting", r, ok)
	}
	if _, ok := d.Observe("shop", "cache", time.Time{}); ok {
		t.Fatal("observed an unconfigured tier")
	}
	// A rollout past its progress deadline reports its booting replicas as
	// failed, once per generation.
	stuck := dep.DeepCopy()
	stuck.ResourceVersion = "2"
	stuck.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: "False", Reason: "ProgressDeadlineExceeded"}}
	if _, err := c.AppsV1().Deployments("shop").UpdateStatus(context.Background(), stuck, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 5*time.Second, func() error {
		if r, _ = d.Observe("shop", "web", time.Time{}); r.Failed == 0 {
			return fmt.Errorf("observed %+v, no failure yet", r)
		}
		return nil
	})
	if r != (Result{Ready: 2, Booting: 3, Failed: 3, Cluster: true}) {
		t.Fatalf("stuck rollout %+v, want 3 failed", r)
	}
	if r, _ = d.Observe("shop", "web", time.Time{}); r.Failed != 0 {
		t.Fatalf("failed reported twice: %+v", r)
	}
}

// A scale-up whose pods never become ready is not marked past its deadline
// by Kubernetes (only rollouts are): the driver reports its booting
// replicas as failed once the Deployment's progress deadline has passed
// since it first saw that generation, once, and a new generation starts
// the clock again.
func TestKubeObserveUnreadyPastDeadline(t *testing.T) {
	dep := deployment("shop", "web", 5, 2)
	deadline := int32(60)
	dep.Spec.ProgressDeadlineSeconds = &deadline
	d, c, _ := newFakeKube(t, dep)
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	d.now = func() time.Time { return now }
	if r, ok := d.Observe("shop", "web", time.Time{}); !ok || r != (Result{Ready: 2, Booting: 3, Cluster: true}) {
		t.Fatalf("observe %+v %v", r, ok)
	}
	now = now.Add(59 * time.Second)
	if r, _ := d.Observe("shop", "web", time.Time{}); r.Failed != 0 {
		t.Fatalf("failed before the deadline: %+v", r)
	}
	now = now.Add(2 * time.Second)
	if r, _ := d.Observe("shop", "web", time.Time{}); r != (Result{Ready: 2, Booting: 3, Failed: 3, Cluster: true}) {
		t.Fatalf("past the deadline %+v, want 3 failed", r)
	}
	if r, _ := d.Observe("shop", "web", time.Time{}); r.Failed != 0 {
		t.Fatalf("failed reported twice: %+v", r)
	}
	// A scale (a new generation) starts the clock again.
	next := dep.DeepCopy()
	next.Generation, next.ResourceVersion, next.Spec.Replicas = 2, "2", new(int32(6))
	if _, err := c.AppsV1().Deployments("shop").Update(context.Background(), next, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 5*time.Second, func() error {
		if r, _ := d.Observe("shop", "web", time.Time{}); r.Booting != 4 {
			return fmt.Errorf("observed %+v, not the new generation yet", r)
		}
		return nil
	})
	now = now.Add(30 * time.Second)
	if r, _ := d.Observe("shop", "web", time.Time{}); r.Failed != 0 {
		t.Fatalf("new generation failed before its deadline: %+v", r)
	}
	now = now.Add(31 * time.Second)
	if r, _ := d.Observe("shop", "web", time.Time{}); r.Failed != 4 {
		t.Fatalf("new generation past its deadline %+v, want 4 failed", r)
	}
}

func TestKubeRESTConfigFromKubeconfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kubeconfig")
	kc := `apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "https://a.example:6443"}}
- {name: b, cluster: {server: "https://b.example:6443"}}
users:
- {name: u, user: {token: t0k3n}}
contexts:
- {name: ctx-a, context: {cluster: a, user: u}}
- {name: ctx-b, context: {cluster: b, user: u}}
current-context: ctx-a
`
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	rc, err := KubeRESTConfig(KubeConfig{Kubeconfig: path})
	if err != nil || rc.Host != "https://a.example:6443" || rc.UserAgent != "headroom-executor" {
		t.Fatalf("current context: %v %+v", err, rc)
	}
	if rc, err = KubeRESTConfig(KubeConfig{Kubeconfig: path, Context: "ctx-b"}); err != nil || rc.Host != "https://b.example:6443" {
		t.Fatalf("ctx-b: %v %+v", err, rc)
	}
	if _, err = KubeRESTConfig(KubeConfig{Kubeconfig: path, Context: "nope"}); err == nil {
		t.Fatal("unknown context accepted")
	}
}

// A watch that has not yet delivered the driver's own patch (it still
// shows an older generation) reports the patched count as desired, so the
// next decision does not see the old count and ask again; once the watch
// shows that generation or a later one, the watch is the truth.
func TestKubeObserveCoversItsOwnPatch(t *testing.T) {
	d, c, _ := newFakeKube(t, deployment("shop", "web", 3, 3))
	if r, ok := d.Observe("shop", "web", time.Time{}); !ok || r != (Result{Ready: 3, Cluster: true}) {
		t.Fatalf("observe %+v %v", r, ok)
	}
	d.mu.Lock()
	d.read["shop.web"] = readMark{gen: 2, desired: 5} // as Scale records it
	d.mu.Unlock()
	if r, _ := d.Observe("shop", "web", time.Time{}); r != (Result{Ready: 3, Booting: 2, Cluster: true}) {
		t.Fatalf("lagging watch: observe %+v, want the patched 5 (3 ready, 2 booting)", r)
	}
	// Someone else's later change (generation 3) wins over the patch.
	next := deployment("shop", "web", 4, 3)
	next.Generation, next.ResourceVersion = 3, "3"
	if _, err := c.AppsV1().Deployments("shop").Update(context.Background(), next, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 5*time.Second, func() error {
		if r, _ := d.Observe("shop", "web", time.Time{}); r != (Result{Ready: 3, Booting: 1, Cluster: true}) {
			return fmt.Errorf("observed %+v, want the cluster's 4", r)
		}
		return nil
	})
}

// A request judged from a count is carried out only while the workload is
// at that count: one found at another is refused (ErrMovedSinceJudged),
// once, with no patch; one at the count asked for already is a success;
// a change between the driver's read and its patch (the patch's
// precondition fails) is found by the retry's read and refused too.
func TestKubeScaleRefusesACountMovedSinceJudged(t *testing.T) {
	for _, c := range []struct {
		name     string
		cluster  int32
		req      Request
		between  int32 // someone scales to this between the first read and its patch (0: nobody)
		moved    bool
		replicas int32 // spec.replicas after
		patches  int
	}{
		{"at the count judged from", 3, Request{Replicas: 5, Judged: true, JudgedFrom: 3}, 0, false, 5, 1},
		{"moved", 8, Request{Replicas: 5, Judged: true, JudgedFrom: 3}, 0, true, 8, 0},
		{"at the count asked for already", 5, Request{Replicas: 5, Judged: true, JudgedFrom: 3}, 0, false, 5, 0},
		{"nothing judged from", 8, Request{Replicas: 5}, 0, false, 5, 1},
		{"moved between read and patch", 3, Request{Replicas: 5, Judged: true, JudgedFrom: 3}, 2, true, 2, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, cs, rec := newFakeKube(t, deployment("shop", "web", c.cluster, c.cluster))
			if c.between != 0 {
				gvr := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
				var once sync.Once
				cs.PrependReactor("patch", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
					once.Do(func() {
						o, err := cs.Tracker().Get(gvr, "shop", "web")
						if err != nil {
							t.Error(err)
							return
						}
						dep := o.(*appsv1.Deployment).DeepCopy()
						dep.Spec.Replicas, dep.ResourceVersion, dep.Generation = &c.between, "7", 7
						if err := cs.Tracker().Update(gvr, dep, "shop"); err != nil {
							t.Error(err)
						}
					})
					return false, nil, nil // on to the scale recorder
				})
			}
			r := c.req
			r.App, r.Tier = "shop", "web"
			_, err := d.Scale(context.Background(), r)
			if got := errors.Is(err, ErrMovedSinceJudged); got != c.moved {
				t.Fatalf("err %v: moved %v, want %v", err, got, c.moved)
			}
			if c.moved && !strings.Contains(err.Error(), fmt.Sprintf("spec.replicas is %d, the decision was judged from 3", c.replicas)) {
				t.Errorf("err %q does not say what was found", err)
			}
			got, _ := cs.AppsV1().Deployments("shop").Get(context.Background(), "web", metav1.GetOptions{})
			if *got.Spec.Replicas != c.replicas || rec.count() != c.patches {
				t.Errorf("spec.replicas %d after %d patches, want %d after %d", *got.Spec.Replicas, rec.count(), c.replicas, c.patches)
			}
		})
	}
}

// A workload deleted and created again starts at generation 1: the count
// the driver remembers of the one before (a patch at a later generation)
// is not the new one's, so Observe reports the new one's spec.replicas and
// a request judged from it is carried out, not refused for ever as moved.
func TestKubeRecreatedWorkloadIsNotJudgedFromTheOldOnesCount(t *testing.T) {
	old := deployment("shop", "web", 3, 3)
	old.UID, old.Generation, old.ResourceVersion = "old", 7, "7"
	d, c, _ := newFakeKube(t, old)
	ctx := context.Background()
	if r, ok := d.Observe("shop", "web", time.Time{}); !ok || r != (Result{Ready: 3, Cluster: true}) {
		t.Fatalf("observe %+v %v", r, ok)
	}
	if _, err := d.Scale(ctx, Request{App: "shop", Tier: "web", Replicas: 5, Judged: true, JudgedFrom: 3}); err != nil {
		t.Fatal(err)
	}
	if err := c.AppsV1().Deployments("shop").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	fresh := deployment("shop", "web", 2, 2)
	fresh.UID, fresh.ResourceVersion = "new", "20"
	if _, err := c.AppsV1().Deployments("shop").Create(ctx, fresh, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 5*time.Second, func() error {
		o, err := d.deploys["shop"].Deployments("shop").Get("web")
		if err != nil || o.UID != "new" {
			return fmt.Errorf("the watch has not shown the new workload yet (%v)", err)
		}
		return nil
	})
	r, ok := d.Observe("shop", "web", time.Time{})
	if want := (Result{Ready: 2, Cluster: true}); !ok || r != want {
		t.Fatalf("observe %+v, want the new workload's %+v", r, want)
	}
	if _, err := d.Scale(ctx, Request{App: "shop", Tier: "web", Replicas: 4, Judged: true, JudgedFrom: r.Ready + r.Booting}); err != nil {
		t.Fatalf("judged from the new workload's count: %v", err)
	}
	if got, _ := c.AppsV1().Deployments("shop").Get(ctx, "web", metav1.GetOptions{}); *got.Spec.Replicas != 4 {
		t.Fatalf("spec.replicas %d, want 4", *got.Spec.Replicas)
	}
}
