package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// WithGroup makes the executor share its partitions under service name
// group instead of "executor": a member of another group, which reads the
// same durables but does not see the first group's members, believes it
// owns every partition, as a member with a split view of the group does.
func WithGroup(group string) Option {
	return func(s *Service) { s.group = group }
}

// WithRefusedRetry makes the first wait before a scaling event refused
// for the executor's permissions is published again base instead of
// refusedRetryBase (doubling from there).
func WithRefusedRetry(base time.Duration) Option {
	return func(s *Service) { s.refusedRetry = base }
}

// FakeKube is a fake API server holding Deployment shop/web, which
// applies scale patches with their resourceVersion precondition as the
// real one does; each Driver is one executor member's kubernetes driver
// of it, for tier shop.web.
type FakeKube struct {
	c   *fake.Clientset
	rec *scaleRecorder
}

// NewFakeKube starts the fake with shop/web at replicas, all ready. With
// frozenWatch, the drivers' watches list the workload once and are never
// told of a change after (a watch lagging the API server).
func NewFakeKube(t *testing.T, replicas int32, frozenWatch bool) *FakeKube {
	f := &FakeKube{c: fake.NewClientset(deployment("shop", "web", replicas, replicas)), rec: &scaleRecorder{}}
	f.rec.install(f.c)
	if frozenWatch {
		f.c.PrependWatchReactor("deployments", func(k8stesting.Action) (bool, watch.Interface, error) {
			w := watch.NewFakeWithChanSize(0, false)
			t.Cleanup(w.Stop)
			return true, w, nil
		})
	}
	return f
}

// Driver returns a new driver of the fake (one member's).
func (f *FakeKube) Driver(t *testing.T) *KubeDriver {
	d := NewKubeDriverForClient(f.c, KubeConfig{Targets: map[string]KubeTarget{"shop.web": {"shop", KindDeployment, "web"}},
		Timeout: 5 * time.Second, SyncTimeout: 5 * time.Second})
	t.Cleanup(d.Close)
	return d
}

// Replicas returns shop/web's spec.replicas.
func (f *FakeKube) Replicas(t *testing.T) int {
	o, err := f.c.AppsV1().Deployments("shop").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return int(*o.Spec.Replicas)
}

// Scale sets shop/web's spec.replicas as kubectl scale would (a new
// generation and resourceVersion).
func (f *FakeKube) Scale(t *testing.T, n int32) {
	o, err := f.c.AppsV1().Deployments("shop").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o.Spec.Replicas = &n
	o.Generation++
	o.ResourceVersion = fmt.Sprint(o.Generation)
	if _, err := f.c.AppsV1().Deployments("shop").Update(context.Background(), o, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// Patches returns the replicas of the scale patches made, in order.
func (f *FakeKube) Patches() []string {
	f.rec.mu.Lock()
	defer f.rec.mu.Unlock()
	var out []string
	for _, p := range f.rec.patches {
		var v struct {
			Spec struct {
				Replicas int32 `json:"replicas"`
			} `json:"spec"`
		}
		_ = json.Unmarshal([]byte(p), &v)
		out = append(out, fmt.Sprint(v.Spec.Replicas))
	}
	return out
}

// WithMember makes id the member's id in the leases it takes (a member
// restarted with the id it had, or one whose release failed).
func WithMember(id string) Option {
	return func(s *Service) { s.member = id }
}

// LeaseMargin is how long before its lease lapses a leased driver call
// ends.
const LeaseMargin = leaseMargin

// MaxHolderWait is maxHolderWait.
const MaxHolderWait = maxHolderWait

// LeaseRetryDelay is leaseRetryDelay.
func LeaseRetryDelay(delivered uint64, untilLapse, held, own time.Duration) time.Duration {
	return leaseRetryDelay(delivered, untilLapse, held, own)
}

// WithBeforeRebasePut makes f run in rebase after it read the state
// stored meanwhile, before it records the change over it.
func WithBeforeRebasePut(f func()) Option {
	return func(s *Service) { s.beforeRebasePut = f }
}
