package executor_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroomhq/headroom/internal/executor"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/proto"
)

// TestSupersededAfterMovedSaysSo: the executor's call for up 3→5 is in
// flight when the workload is scaled by hand to 8 and the decider stores
// a newer decision. The call changes nothing (moved); judged again, the
// up is superseded by the newer decision, and its reason says the move
// kept it from being made.
func TestSupersededAfterMovedSaysSo(t *testing.T) {
	h := newHarness(t)
	k := executor.NewFakeKube(t, 1, false)
	a := newStallKube(k.Driver(t), 5)
	t.Cleanup(a.let)
	reg := prometheus.NewRegistry()
	h.startWith(kubeConfig(), nil, reg, executor.WithDriver(executor.DriverKubernetes, a))
	d1 := decision("shop", 0, 1, 3)
	h.publish(d1)
	h.waitState(d1)
	d3 := decision("shop", 3, 3, 5)
	h.publish(d3)
	wait(t, a.entered, "the call for 3→5")
	k.Scale(t, 8)
	h.publish(decision("shop", 4, 8, 6))
	a.let()
	waitMoved(t, reg, 1)
	h.waitState(d3)
	var reason string
	for _, data := range natstest.Payloads(t, h.b, "SCALING", proto.AppFilter("apm", proto.KindScaling, "shop")) {
		var sc proto.Scaling
		if err := proto.Decode(data, &sc); err != nil {
			t.Fatal(err)
		}
		if sc.DecisionID == d3.ID && sc.Status == proto.StatusSkipped {
			reason = sc.Reason
		}
	}
	if !strings.HasPrefix(reason, "superseded: ") || !strings.Contains(reason, "(moved): that move kept the change from being made") {
		t.Errorf("3→5 skipped for %q, want superseded, saying the move kept it from being made", reason)
	}
}
