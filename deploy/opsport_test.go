package deploy_test

import (
	"net"
	"slices"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// envValue returns the literal value container c gives the variable name.
func envValue(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// addrPort is the port of a listen address such as ":9090".
func addrPort(t *testing.T, what, addr string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s %q: %v", what, addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 {
		t.Fatalf("%s %q: want a fixed port", what, addr)
	}
	return int32(n)
}

// portOf resolves a probe's or Service's target port (by name or number)
// against the container's ports; 0 when it names none of them.
func portOf(c corev1.Container, p intstr.IntOrString) int32 {
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	return 0
}

// TestProbesUseTheOpsPort reads the Kubernetes manifests and checks every
// Headroom service's container (one that sets HEADROOM_HTTP_ADDR): it sets
// HEADROOM_OPS_ADDR to a port of its own, declares it as the container
// port "ops", and points its readiness probe (/readyz) and liveness probe
// (/healthz) at it, not at the http port, where a client filling the
// connection cap would starve them; the gateway and the collector, which
// serve public clients, must be among them. No Service exposes the ops
// port: the public Service carries the service's routes alone.
func TestProbesUseTheOpsPort(t *testing.T) {
	m := kubeObjects(t)
	pods := m.Pods
	opsPorts := map[string]int32{} // workload: ops port
	for name, pod := range pods {
		for _, c := range pod.Spec.Containers {
			httpAddr, ok := envValue(c, "HEADROOM_HTTP_ADDR")
			if !ok {
				continue
			}
			opsAddr, ok := envValue(c, "HEADROOM_OPS_ADDR")
			if !ok || opsAddr == "" {
				t.Errorf("%s/%s: no HEADROOM_OPS_ADDR: its probes share %s with its clients", name, c.Name, httpAddr)
				continue
			}
			hp, op := addrPort(t, name+" HEADROOM_HTTP_ADDR", httpAddr), addrPort(t, name+" HEADROOM_OPS_ADDR", opsAddr)
			if hp == op {
				t.Errorf("%s/%s: ops and http on the same port %d", name, c.Name, op)
				continue
			}
			if got := portOf(c, intstr.FromString("ops")); got != op {
				t.Errorf("%s/%s: container port \"ops\" is %d, want %d (HEADROOM_OPS_ADDR %s)", name, c.Name, got, op, opsAddr)
			}
			opsPorts[name] = op
			for _, pr := range []struct {
				kind, path string
				probe      *corev1.Probe
			}{{"readiness", "/readyz", c.ReadinessProbe}, {"liveness", "/healthz", c.LivenessProbe}} {
				if pr.probe == nil || pr.probe.HTTPGet == nil {
					t.Errorf("%s/%s: no HTTP %s probe", name, c.Name, pr.kind)
					continue
				}
				g := pr.probe.HTTPGet
				if g.Path != pr.path || portOf(c, g.Port) != op {
					t.Errorf("%s/%s: %s probe GET %s on port %s (%d), want %s on the ops port %d", name, c.Name, pr.kind, g.Path, g.Port.String(), portOf(c, g.Port), pr.path, op)
				}
			}
		}
	}
	for _, want := range []string{"headroom-gateway", "headroom-collector"} {
		if _, ok := opsPorts[want]; !ok {
			t.Errorf("%s: no ops listener, though it serves public clients", want)
		}
	}
	if len(opsPorts) != 6 {
		t.Errorf("%d services with an ops port, want the six", len(opsPorts))
	}
	for _, svc := range m.Services {
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		for name, pod := range pods {
			op, ok := opsPorts[name]
			if !ok || len(svc.Spec.Selector) == 0 || !sel.Matches(labels.Set(pod.Labels)) {
				continue
			}
			for _, sp := range svc.Spec.Ports {
				target := sp.TargetPort
				if target.Type == intstr.Int && target.IntVal == 0 {
					target = intstr.FromInt32(sp.Port)
				}
				if slices.ContainsFunc(pod.Spec.Containers, func(c corev1.Container) bool { return portOf(c, target) == op }) {
					t.Errorf("Service %s exposes %s's ops port (%s): /metrics and the probes would be public", svc.Name, name, sp.Name)
				}
			}
		}
	}
}
