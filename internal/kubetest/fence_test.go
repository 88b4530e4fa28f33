package kubetest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/kubetest"
	"github.com/headroomhq/headroom/proto"
)

// stallPatch holds the first scale patch of Deployment web on its way to
// the API server until release is closed.
type stallPatch struct {
	next             http.RoundTripper
	once             sync.Once
	entered, release chan struct{}
}

func (s *stallPatch) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch && strings.HasSuffix(r.URL.Path, "/deployments/web/scale") {
		s.once.Do(func() {
			close(s.entered)
			<-s.release
		})
	}
	return s.next.RoundTrip(r)
}

// TestScaledByHandWhilePatchInFlight: the executor judged up 2→4 from the
// cluster's 2, read the workload and sent its patch (conditional on the
// resourceVersion read); before the patch arrives, kubectl scale sets 6.
// The API server refuses the patch (conflict); the driver's fresh read
// finds 6, not the 2 judged from, and changes nothing: the hand's 6
// stands, the decision, judged again from 6, is skipped as outdated, and
// the next decision starts from 6.
func TestScaledByHandWhilePatchInFlight(t *testing.T) {
	cl := kubetest.Start(t, kubetest.Options{})
	ctx := context.Background()
	w := newWorld(t, cl)
	if _, err := cl.Client.AppsV1().Deployments("shop").Create(ctx, newDeployment("web", 2, time.Second), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	w.start = time.Now()
	stall := &stallPatch{entered: make(chan struct{}), release: make(chan struct{})}
	defer func() {
		select {
		case <-stall.release:
		default:
			close(stall.release)
		}
	}()
	w.startExecutorWrapped(func(rt http.RoundTripper) http.RoundTripper {
		stall.next = rt
		return stall
	})
	d := w.decide("shop", "web", 2, 4)
	select {
	case <-stall.entered:
	case <-time.After(60 * time.Second):
		t.Fatal("the executor sent no scale patch within 60s")
	}
	w.logf("patch 2→4 in flight; kubectl scale --replicas=6")
	sc := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}, Spec: autoscalingv1.ScaleSpec{Replicas: 6}}
	if _, err := cl.Client.AppsV1().Deployments("shop").UpdateScale(ctx, "web", sc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	close(stall.release)
	st := w.state(d)
	if n := *w.deployment("web").Spec.Replicas; n != 6 || st.Desired != 6 {
		t.Fatalf("the cluster runs %d replicas, the state records %d desired; want both at the hand's 6", n, st.Desired)
	}
	ev := w.waitEvent(d, proto.StatusSkipped)
	if !strings.HasPrefix(ev.Reason, "outdated: decided up 2→4, but the workload is at 6 replicas already") {
		t.Fatalf("skip reason %q", ev.Reason)
	}
	for _, e := range w.events("shop") {
		if e.DecisionID == d.ID && e.Status != proto.StatusSkipped {
			t.Errorf("scaling event %s for the refused 2→4", e.Status)
		}
	}
	w.logf("state desired %d, skipped: %s", st.Desired, ev.Reason)
	next := w.decide("shop", "web", 6, 5)
	if st := w.state(next); st.Desired != 5 || *w.deployment("web").Spec.Replicas != 5 {
		t.Fatalf("after 6→5: state %+v, cluster %d; want both at 5", st, *w.deployment("web").Spec.Replicas)
	}
}

// TestOlderPatchInFlightRefused is exec62's race on the real API server,
// driver against driver: member A's patch 3→5 (judged from 3) is on its
// way when member B, acting on the newer decision, scales 3→2. A's patch
// arrives with the resourceVersion A read: the API server refuses it, and
// A's fresh read finds 2, not 3: A changes nothing (ErrMovedSinceJudged).
// The workload ends at B's 2.
func TestOlderPatchInFlightRefused(t *testing.T) {
	cl := kubetest.Start(t, kubetest.Options{})
	ctx := context.Background()
	for _, ns := range []string{"headroom", "shop"} {
		if _, err := cl.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	applyFiles(t, cl, false, "rbac.yaml")
	if _, err := cl.Client.AppsV1().Deployments("shop").Create(ctx, newDeployment("web", 3, time.Second), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	stall := &stallPatch{entered: make(chan struct{}), release: make(chan struct{})}
	member := func(wrap bool) *executor.KubeDriver {
		rc := rest.CopyConfig(cl.Config)
		rc.Impersonate = rest.ImpersonationConfig{UserName: executorIdentity}
		if wrap {
			rc.Wrap(func(rt http.RoundTripper) http.RoundTripper {
				stall.next = rt
				return stall
			})
		}
		client, err := kubernetes.NewForConfig(rc)
		if err != nil {
			t.Fatal(err)
		}
		d := executor.NewKubeDriverForClient(client, executor.KubeConfig{Targets: map[string]executor.KubeTarget{
			"shop.web": {Namespace: "shop", Kind: executor.KindDeployment, Name: "web"}}, Timeout: 20 * time.Second})
		t.Cleanup(d.Close)
		return d
	}
	a, b := member(true), member(false)
	errA := make(chan error, 1)
	go func() {
		_, err := a.Scale(ctx, executor.Request{App: "shop", Tier: "web", Replicas: 5, Judged: true, JudgedFrom: 3})
		errA <- err
	}()
	select {
	case <-stall.entered:
	case <-time.After(30 * time.Second):
		close(stall.release)
		t.Fatalf("A sent no patch within 30s: %v", <-errA)
	}
	if _, err := b.Scale(ctx, executor.Request{App: "shop", Tier: "web", Replicas: 2, Judged: true, JudgedFrom: 3}); err != nil {
		close(stall.release)
		t.Fatal(err)
	}
	close(stall.release)
	err := <-errA
	if n := *getDeployment(t, cl, "web").Spec.Replicas; n != 2 || !errors.Is(err, executor.ErrMovedSinceJudged) {
		t.Fatalf("the workload runs %d replicas (want B's 2); A's call returned %v, want ErrMovedSinceJudged", n, err)
	}
	t.Logf("A: %v", err)
}

func getDeployment(t *testing.T, cl *kubetest.Cluster, name string) *appsv1.Deployment {
	t.Helper()
	d, err := cl.Client.AppsV1().Deployments("shop").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
