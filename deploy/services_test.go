package deploy_test

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// serviceTargets are the workloads (Deployments and StatefulSets, in the
// Service's namespace) whose pods svc selects.
func serviceTargets(m kubeManifests, svc corev1.Service) []string {
	if len(svc.Spec.Selector) == 0 {
		return nil
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var out []string
	for name, pod := range m.Pods {
		if (m.Kinds[name] == "Deployment" || m.Kinds[name] == "StatefulSet") && m.Namespaces[name] == svc.Namespace && sel.Matches(labels.Set(pod.Labels)) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// servicePortTarget is the container port sp reaches on pod: its
// targetPort by name or number (the port itself when unset), 0 when no
// container of pod declares it.
func servicePortTarget(pod corev1.PodTemplateSpec, sp corev1.ServicePort) int32 {
	target := sp.TargetPort
	if target.Type == intstr.Int && target.IntVal == 0 {
		target = intstr.FromInt32(sp.Port)
	}
	for _, c := range pod.Spec.Containers {
		p := portOf(c, target)
		if p != 0 && slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.ContainerPort == p }) {
			return p
		}
	}
	return 0
}

// TestServicesReachTheirPods reads deploy/kubernetes: every Service is a
// ClusterIP one whose selector picks at least one Deployment or
// StatefulSet of its namespace, and each of its ports, named, reaches a
// port a container of every such pod declares (a selector matching
// nothing, or a targetPort no container has, leaves the Service without
// endpoints: its clients' connections are refused). Every workload whose
// http port (HEADROOM_HTTP_ADDR) the NetworkPolicies open to pods beyond
// Headroom's (an app's pod of another namespace) has a Service
// headroom-… of its own name with a port http on 8080 reaching it: the
// collector's push API and the gateway's dashboard, which those pods
// would otherwise reach only by pod IPs.
func TestServicesReachTheirPods(t *testing.T) {
	m := kubeObjects(t)
	byName := map[string]corev1.Service{}
	for _, svc := range m.Services {
		byName[svc.Name] = svc
		if tp := svc.Spec.Type; tp != "" && tp != corev1.ServiceTypeClusterIP {
			t.Errorf("Service %s is %s, want ClusterIP (the cluster's own clients; an ingress or port-forward for the rest)", svc.Name, tp)
		}
		targets := serviceTargets(m, svc)
		if len(targets) == 0 {
			t.Errorf("Service %s (selector %v, namespace %s) selects no Deployment or StatefulSet", svc.Name, svc.Spec.Selector, svc.Namespace)
			continue
		}
		if len(svc.Spec.Ports) == 0 {
			t.Errorf("Service %s has no port", svc.Name)
		}
		for _, sp := range svc.Spec.Ports {
			if sp.Name == "" {
				t.Errorf("Service %s: port %d has no name", svc.Name, sp.Port)
			}
			for _, w := range targets {
				if servicePortTarget(m.Pods[w], sp) == 0 {
					t.Errorf("Service %s: port %s (%d) targets %s, which no container of %s declares", svc.Name, sp.Name, sp.Port, sp.TargetPort.String(), w)
				}
			}
		}
	}
	app := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "shop"}}}
	open := 0
	for name, pod := range m.Pods {
		var httpAddr string
		for _, c := range pod.Spec.Containers {
			if v, ok := envValue(c, "HEADROOM_HTTP_ADDR"); ok {
				httpAddr = v
			}
		}
		if httpAddr == "" {
			continue
		}
		port := addrPort(t, name+" HEADROOM_HTTP_ADDR", httpAddr)
		if !ingressAllowed(t, m.Policies, nil, pod, m.Namespaces[name], app, "shop", port) {
			continue
		}
		open++
		svc, ok := byName[name]
		if !ok {
			t.Errorf("%s: its http port %d is open to every pod, but no Service %s exposes it: pods in the cluster would need its pod IPs", name, port, name)
			continue
		}
		if !slices.Contains(serviceTargets(m, svc), name) {
			t.Errorf("Service %s does not select %s", name, name)
		}
		if !slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool {
			return sp.Name == "http" && sp.Port == 8080 && servicePortTarget(pod, sp) == port
		}) {
			t.Errorf("Service %s: no port http on 8080 reaching %s's http port %d", name, name, port)
		}
	}
	if open != 2 {
		t.Errorf("%d workloads with an http port open to every pod, want 2 (the collector and the gateway)", open)
	}
}
