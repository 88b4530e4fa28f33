package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// kubeManifests are the objects of deploy/kubernetes the tests check.
type kubeManifests struct {
	// Pods are the pod templates of the Deployments, StatefulSets and
	// Jobs, by workload name.
	Pods map[string]corev1.PodTemplateSpec
	// Namespaces are the workloads' namespaces, by workload name.
	Namespaces map[string]string
	Policies   []networkingv1.NetworkPolicy
	Services   []corev1.Service
	// ConfigMaps are the ConfigMaps the manifests carry, by name.
	ConfigMaps map[string]corev1.ConfigMap
}

// kubeObjects reads every object of the files deploy/kubernetes's
// kustomization lists, as kubectl apply -k would: the pod templates by
// workload name, the NetworkPolicies, the Services and the ConfigMaps.
func kubeObjects(t *testing.T) kubeManifests {
	t.Helper()
	dir := filepath.Join("kubernetes")
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	m := kubeManifests{Pods: map[string]corev1.PodTemplateSpec{}, Namespaces: map[string]string{}, ConfigMaps: map[string]corev1.ConfigMap{}}
	for _, f := range k.Resources {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var meta metav1.TypeMeta
			if err := yaml.Unmarshal(doc, &meta); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			switch meta.Kind {
			case "Deployment":
				var o appsv1.Deployment
				if err := yaml.UnmarshalStrict(doc, &o); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				m.Pods[o.Name], m.Namespaces[o.Name] = o.Spec.Template, o.Namespace
			case "StatefulSet":
				var o appsv1.StatefulSet
				if err := yaml.UnmarshalStrict(doc, &o); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				m.Pods[o.Name], m.Namespaces[o.Name] = o.Spec.Template, o.Namespace
			case "Job":
				var o batchv1.Job
				if err := yaml.UnmarshalStrict(doc, &o); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				m.Pods[o.Name], m.Namespaces[o.Name] = o.Spec.Template, o.Namespace
			case "NetworkPolicy":
				var o networkingv1.NetworkPolicy
				if err := yaml.UnmarshalStrict(doc, &o); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				m.Policies = append(m.Policies, o)
			case "Service":
				var o corev1.Service
				if err := yaml.UnmarshalStrict(doc, &o); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				m.Services = append(m.Services, o)
			case "ConfigMap":
				var o corev1.ConfigMap
				if err := yaml.UnmarshalStrict(doc, &o); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				m.ConfigMaps[o.Name] = o
			}
		}
	}
	return m
}

// setsEnv reports whether a container of pod sets the variable name.
func setsEnv(pod corev1.PodTemplateSpec, name string) bool {
	for _, c := range pod.Spec.Containers {
		if slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name }) {
			return true
		}
	}
	return false
}

// ingressAllowed models NetworkPolicy ingress (networking.k8s.io/v1) for
// what the manifests use: whether a pod src in namespace srcNS may open a
// TCP connection to port of a pod dst in dstNS. Policies add up: a pod that
// no policy selects for ingress takes every connection; one that some do
// takes what any rule of any of them allows. A peer beyond a pod selector
// of the policy's own namespace (an ipBlock, a namespaceSelector) counts as
// everyone.
func ingressAllowed(t *testing.T, policies []networkingv1.NetworkPolicy, dst corev1.PodTemplateSpec, dstNS string, src corev1.PodTemplateSpec, srcNS string, port int32) bool {
	t.Helper()
	selects := func(p networkingv1.NetworkPolicy, s *metav1.LabelSelector, l map[string]string) bool {
		sel, err := metav1.LabelSelectorAsSelector(s)
		if err != nil {
			t.Fatalf("NetworkPolicy %s: %v", p.Name, err)
		}
		return sel.Matches(labels.Set(l))
	}
	isolated := false
	for _, p := range policies {
		if p.Namespace != dstNS || !selects(p, &p.Spec.PodSelector, dst.Labels) {
			continue
		}
		types := p.Spec.PolicyTypes
		if len(types) == 0 {
			types = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress} // implied when unset
		}
		if !slices.Contains(types, networkingv1.PolicyTypeIngress) {
			continue
		}
		isolated = true
		for _, rule := range p.Spec.Ingress {
			if !portAllowed(rule.Ports, dst, port) {
				continue
			}
			if len(rule.From) == 0 {
				return true // from everywhere
			}
			for _, peer := range rule.From {
				if peer.IPBlock != nil || peer.NamespaceSelector != nil {
					return true
				}
				if peer.PodSelector != nil && srcNS == p.Namespace && selects(p, peer.PodSelector, src.Labels) {
					return true
				}
			}
		}
	}
	return !isolated
}

// portAllowed says whether a rule's ports take TCP port of pod dst: no
// ports is every port, as is an entry without one; a range runs to its
// endPort; a named port is dst's container port of that name.
func portAllowed(ports []networkingv1.NetworkPolicyPort, dst corev1.PodTemplateSpec, port int32) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if p.Protocol != nil && *p.Protocol != corev1.ProtocolTCP {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.Type == intstr.String:
			for _, c := range dst.Spec.Containers {
				for _, cp := range c.Ports {
					if cp.Name == p.Port.StrVal && cp.ContainerPort == port && (cp.Protocol == "" || cp.Protocol == corev1.ProtocolTCP) {
						return true
					}
				}
			}
		case p.EndPort != nil:
			if port >= p.Port.IntVal && port <= *p.EndPort {
				return true
			}
		case p.Port.IntVal == port:
			return true
		}
	}
	return false
}

// TestNetworkPolicyModel: ingressAllowed follows NetworkPolicy's semantics
// in the cases a policy beside NATS could use, so that a change opening a
// port another way than the policy's own does cannot pass
// TestNATSTakesOnlyHeadroomClients.
func TestNetworkPolicyModel(t *testing.T) {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	num := func(n int32) *intstr.IntOrString { p := intstr.FromInt32(n); return &p }
	named := func(s string) *intstr.IntOrString { p := intstr.FromString(s); return &p }
	end := func(n int32) *int32 { return &n }
	dst := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "nats"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "nats", Ports: []corev1.ContainerPort{{Name: "client", ContainerPort: 4222}, {Name: "monitor", ContainerPort: 8222}}}}}}
	src := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "client"}}}
	fromSrc := []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: src.Labels}}}
	policy := func(types []networkingv1.PolicyType, rules ...networkingv1.NetworkPolicyIngressRule) networkingv1.NetworkPolicy {
		return networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "headroom"},
			Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: dst.Labels}, PolicyTypes: types, Ingress: rules}}
	}
	ingress := []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	clientOnly := policy(ingress, networkingv1.NetworkPolicyIngressRule{From: fromSrc, Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: num(4222)}}})
	for _, c := range []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		srcNS    string
		port     int32
		want     bool
	}{
		{"no policy: not isolated", nil, "headroom", 8222, true},
		{"the port a rule names", []networkingv1.NetworkPolicy{clientOnly}, "headroom", 4222, true},
		{"a port no rule names", []networkingv1.NetworkPolicy{clientOnly}, "headroom", 8222, false},
		{"policies add up", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{{Port: num(8222)}}}), clientOnly}, "headroom", 8222, true},
		{"an egress-only policy isolates no ingress", []networkingv1.NetworkPolicy{policy([]networkingv1.PolicyType{networkingv1.PolicyTypeEgress})}, "headroom", 8222, true},
		{"an entry without a port is every port", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{From: fromSrc, Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp}}})}, "headroom", 8222, true},
		{"a range takes the ports to its end", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{From: fromSrc, Ports: []networkingv1.NetworkPolicyPort{{Port: num(8000), EndPort: end(9000)}}})}, "headroom", 8222, true},
		{"a named port is the container's", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{From: fromSrc, Ports: []networkingv1.NetworkPolicyPort{{Port: named("monitor")}}})}, "headroom", 8222, true},
		{"a named port is no other", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{From: fromSrc, Ports: []networkingv1.NetworkPolicyPort{{Port: named("monitor")}}})}, "headroom", 4222, false},
		{"a UDP rule takes no TCP", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: num(8222)}}})}, "headroom", 8222, false},
		{"a pod selector alone is the policy's namespace", []networkingv1.NetworkPolicy{clientOnly}, "shop", 4222, false},
		{"a namespace selector reaches beyond", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}, PodSelector: &metav1.LabelSelector{MatchLabels: src.Labels}}}})}, "shop", 8222, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ingressAllowed(t, c.policies, dst, "headroom", src, c.srcNS, c.port); got != c.want {
				t.Errorf("allowed %v, want %v", got, c.want)
			}
		})
	}
}

// TestNATSTakesOnlyHeadroomClients reads the Kubernetes manifests as
// kubectl apply -k would and checks the NetworkPolicies against the
// workloads beside them (ingressAllowed): every workload with a NATS
// identity (HEADROOM_NATS_USER) may reach NATS's client port, and no other
// pod, of this namespace or another; no pod may reach the monitoring port;
// only NATS pods the cluster port. A workload added without its place in
// the policy, or a policy whose selector drifts from the NATS labels,
// fails here.
func TestNATSTakesOnlyHeadroomClients(t *testing.T) {
	m := kubeObjects(t)
	nats, ok := m.Pods["nats"]
	if !ok {
		t.Fatal("no nats StatefulSet in the kustomization")
	}
	ns := m.Namespaces["nats"]
	// Pods of other workloads: one labelled part-of headroom beside NATS,
	// and one in another namespace labelled as the collector.
	m.Pods["a pod of another workload, even one labelled part-of headroom"] = corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{
		Labels: map[string]string{"app.kubernetes.io/name": "shop-web", "app.kubernetes.io/part-of": "headroom"}}}
	m.Namespaces["a pod of another workload, even one labelled part-of headroom"] = ns
	m.Pods["a pod of another namespace labelled as the collector"] = corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{
		Labels: m.Pods["headroom-collector"].Labels}}
	m.Namespaces["a pod of another namespace labelled as the collector"] = "shop"
	clients := 0
	for name, pod := range m.Pods {
		allowed := func(port int32) bool { return ingressAllowed(t, m.Policies, nats, ns, pod, m.Namespaces[name], port) }
		identity := setsEnv(pod, "HEADROOM_NATS_USER")
		if identity {
			clients++
		}
		if got := allowed(4222); got != identity {
			t.Errorf("%s (NATS identity: %v) may reach NATS's client port: %v", name, identity, got)
		}
		if allowed(8222) {
			t.Errorf("%s may reach NATS's monitoring port", name)
		}
		if got, want := allowed(6222), name == "nats"; got != want {
			t.Errorf("%s may reach NATS's cluster port: %v, want %v", name, got, want)
		}
	}
	if clients != 7 {
		t.Errorf("%d workloads hold a NATS identity, want 7 (provision and the six services)", clients)
	}
}
