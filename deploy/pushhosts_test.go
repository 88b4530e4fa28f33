package deploy_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/headroomhq/headroom/internal/collector"
	"github.com/headroomhq/headroom/internal/hostcheck"
	"github.com/headroomhq/headroom/internal/ingest"
)

// TestCollectorServiceNamesAllowed reads deploy/kubernetes: the push API
// checks the Host header (internal/hostcheck, against DNS rebinding), so a
// pusher posting to the collector's Service by any of its DNS names
// (headroom-collector, .headroom, .headroom.svc, .headroom.svc.cluster.local,
// on the Service's port) must be answered, not refused 403: the collector's
// HEADROOM_PUSH_ALLOWED_HOSTS, read as the standalone collector reads it
// (collector.StandalonePushHosts, with its HEADROOM_HTTP_ADDR), must allow
// them. Without it, only loopback names pass, and the Service that README
// tells pushers to use answers every push 403.
func TestCollectorServiceNamesAllowed(t *testing.T) {
	m := kubeObjects(t)
	const name = "headroom-collector"
	pod, ok := m.Pods[name]
	if !ok {
		t.Fatalf("no workload %s", name)
	}
	var hosts, listen string
	for _, c := range pod.Spec.Containers {
		if v, ok := envValue(c, "HEADROOM_HTTP_ADDR"); ok {
			listen = v
			hosts, _ = envValue(c, "HEADROOM_PUSH_ALLOWED_HOSTS")
		}
	}
	if listen == "" {
		t.Fatalf("%s sets no HEADROOM_HTTP_ADDR", name)
	}
	allowed := collector.StandalonePushHosts(hosts, listen)
	containerPort := addrPort(t, name+" HEADROOM_HTTP_ADDR", listen)
	found := false
	for _, svc := range m.Services {
		if svc.Name != name {
			continue
		}
		found = true
		ns := svc.Namespace
		for _, sp := range svc.Spec.Ports {
			port := strconv.Itoa(int(sp.Port))
			for _, dns := range []string{name, name + "." + ns, name + "." + ns + ".svc", name + "." + ns + ".svc.cluster.local"} {
				r := httptest.NewRequest(http.MethodPost, "http://"+net.JoinHostPort(dns, port)+ingest.Path, nil)
				// The request arrives on the container's port, as the
				// Service forwards it.
				local := &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: int(containerPort)}
				r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, net.Addr(local)))
				if !hostcheck.Allowed(r, allowed) {
					t.Errorf("Service %s port %s: Host %s refused by the push API (allowed hosts %q from HEADROOM_PUSH_ALLOWED_HOSTS %q): pushers posting to the Service get 403", name, sp.Name, r.Host, allowed, hosts)
				}
			}
		}
	}
	if !found {
		t.Fatalf("no Service %s", name)
	}
}
