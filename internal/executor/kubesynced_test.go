package executor

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/service"
)

// TestKubeWatchesAreReadiness: with the kubernetes driver, the executor is
// not ready until the driver's workload watches have listed the
// workloads. Until then every tier is judged from the count on record and
// a change to a workload scaled meanwhile is refused, so a watch that never
// lists (the service account may get and patch but not list or watch)
// shows on /readyz with the reason, not only in refusals.
func TestKubeWatchesAreReadiness(t *testing.T) {
	for _, c := range []struct {
		name     string
		listable bool
		want     string // in the readiness error once the watches ran; "" for ready
	}{
		{"the workloads listed", true, ""},
		{"list refused", false, "workloads not listed within"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cs := fake.NewClientset([]runtime.Object{deployment("shop", "web", 3, 3)}...)
			if !c.listable {
				cs.PrependReactor("list", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
					return true, nil, errors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "", nil)
				})
			}
			d := NewKubeDriverForClient(cs, KubeConfig{Targets: map[string]KubeTarget{"shop.web": {"shop", KindDeployment, "web"}},
				Timeout: 5 * time.Second, SyncTimeout: 300 * time.Millisecond})
			t.Cleanup(d.Close)
			ready := service.NewReady()
			s, err := New(DefaultConfig(), service.Deps{Log: zerolog.Nop(), Ready: ready}, WithDriver(DriverKubernetes, d))
			if err != nil {
				t.Fatal(err)
			}
			s.ready.Set("executor") // the consumer's part, which Run would set
			// The check's name and the driver's error each say what it
			// is once: "driver: kubernetes: …".
			if err := ready.Err(); err == nil || err.Error() != "driver: kubernetes: workload watches starting" {
				t.Fatalf("before the watches start: readiness %v, want \"driver: kubernetes: workload watches starting\"", err)
			}
			d.Watch() // as Run does
			natstest.Eventually(t, 10*time.Second, func() error {
				err := ready.Err()
				if c.want == "" {
					return err
				}
				if err == nil || !strings.HasPrefix(err.Error(), "driver: kubernetes: ") || !strings.Contains(err.Error(), c.want) {
					return fmt.Errorf("readiness %v, want an error with %q", err, c.want)
				}
				return nil
			})
		})
	}
}
