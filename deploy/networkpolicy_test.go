package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"maps"
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
	// Kinds are the workloads' kinds (Deployment, StatefulSet, Job), by
	// workload name.
	Kinds    map[string]string
	Policies []networkingv1.NetworkPolicy
	Services []corev1.Service
	// ConfigMaps are the ConfigMaps the manifests carry, by name.
	ConfigMaps map[string]corev1.ConfigMap
	// SecretFiles are the files that carry a Secret, once for each.
	SecretFiles []string
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
	m := kubeManifests{Pods: map[string]corev1.PodTemplateSpec{}, Namespaces: map[string]string{}, Kinds: map[string]string{}, ConfigMaps: map[string]corev1.ConfigMap{}}
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
				m.Pods[o.Name], m.Namespaces[o.Name], m.Kinds[o.Name] = o.Spec.Template, o.Namespace, meta.Kind
			case "StatefulSet":
				var o appsv1.StatefulSet
				if err := yaml.UnmarshalStrict(doc, &o); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				m.Pods[o.Name], m.Namespaces[o.Name], m.Kinds[o.Name] = o.Spec.Template, o.Namespace, meta.Kind
			case "Job":
				var o batchv1.Job
				if err := yaml.UnmarshalStrict(doc, &o); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				m.Pods[o.Name], m.Namespaces[o.Name], m.Kinds[o.Name] = o.Spec.Template, o.Namespace, meta.Kind
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
			case "Secret":
				m.SecretFiles = append(m.SecretFiles, f)
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
// takes what any rule of any of them allows. An ipBlock peer counts as
// everyone. A namespaceSelector peer is matched against nsLabels[srcNS]
// (with the kubernetes.io/metadata.name label every namespace has), and
// with a podSelector beside it against src's labels too; a namespace
// nsLabels does not list counts as matching every namespaceSelector (the
// worst case: its labels are not the manifests' to decide).
func ingressAllowed(t *testing.T, policies []networkingv1.NetworkPolicy, nsLabels map[string]map[string]string, dst corev1.PodTemplateSpec, dstNS string, src corev1.PodTemplateSpec, srcNS string, port int32) bool {
	t.Helper()
	selects := func(p networkingv1.NetworkPolicy, s *metav1.LabelSelector, l map[string]string) bool {
		sel, err := metav1.LabelSelectorAsSelector(s)
		if err != nil {
			t.Fatalf("NetworkPolicy %s: %v", p.Name, err)
		}
		return sel.Matches(labels.Set(l))
	}
	selectsNS := func(p networkingv1.NetworkPolicy, s *metav1.LabelSelector) bool {
		l, known := nsLabels[srcNS]
		if !known {
			return true
		}
		l = maps.Clone(l)
		if l == nil {
			l = map[string]string{}
		}
		l["kubernetes.io/metadata.name"] = srcNS
		return selects(p, s, l)
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
				if peer.IPBlock != nil {
					return true
				}
				if peer.NamespaceSelector != nil {
					if selectsNS(p, peer.NamespaceSelector) && (peer.PodSelector == nil || selects(p, peer.PodSelector, src.Labels)) {
						return true
					}
					continue
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
	scrape := map[string]string{"headroom.dev/scrape": "true"}
	fromScrapeNS := policy(ingress, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: scrape}}}})
	fromScrapePods := policy(ingress, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: scrape}, PodSelector: &metav1.LabelSelector{MatchLabels: scrape}}}})
	nsLabels := map[string]map[string]string{"monitoring": scrape, "shop": nil, "headroom": nil}
	for _, c := range []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		srcNS    string
		port     int32
		want     bool
		nsLabels map[string]map[string]string // nil: every namespace unknown
		// srcLabels, when set, are the client's labels instead of src's.
		srcLabels map[string]string
	}{
		{"no policy: not isolated", nil, "headroom", 8222, true, nil, nil},
		{"the port a rule names", []networkingv1.NetworkPolicy{clientOnly}, "headroom", 4222, true, nil, nil},
		{"a port no rule names", []networkingv1.NetworkPolicy{clientOnly}, "headroom", 8222, false, nil, nil},
		{"policies add up", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{{Port: num(8222)}}}), clientOnly}, "headroom", 8222, true, nil, nil},
		{"an egress-only policy isolates no ingress", []networkingv1.NetworkPolicy{policy([]networkingv1.PolicyType{networkingv1.PolicyTypeEgress})}, "headroom", 8222, true, nil, nil},
		{"an entry without a port is every port", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{From: fromSrc, Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp}}})}, "headroom", 8222, true, nil, nil},
		{"a range takes the ports to its end", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{From: fromSrc, Ports: []networkingv1.NetworkPolicyPort{{Port: num(8000), EndPort: end(9000)}}})}, "headroom", 8222, true, nil, nil},
		{"a named port is the container's", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{From: fromSrc, Ports: []networkingv1.NetworkPolicyPort{{Port: named("monitor")}}})}, "headroom", 8222, true, nil, nil},
		{"a named port is no other", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{From: fromSrc, Ports: []networkingv1.NetworkPolicyPort{{Port: named("monitor")}}})}, "headroom", 4222, false, nil, nil},
		{"a UDP rule takes no TCP", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: num(8222)}}})}, "headroom", 8222, false, nil, nil},
		{"a pod selector alone is the policy's namespace", []networkingv1.NetworkPolicy{clientOnly}, "shop", 4222, false, nil, nil},
		{"a namespace selector reaches beyond", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}, PodSelector: &metav1.LabelSelector{MatchLabels: src.Labels}}}})}, "shop", 8222, true, nil, nil},
		{"a namespace selector matches an unknown namespace", []networkingv1.NetworkPolicy{fromScrapeNS}, "shop", 8222, true, nil, nil},
		{"a namespace selector matches a labelled namespace", []networkingv1.NetworkPolicy{fromScrapeNS}, "monitoring", 8222, true, nsLabels, nil},
		{"a namespace selector matches no other", []networkingv1.NetworkPolicy{fromScrapeNS}, "shop", 8222, false, nsLabels, nil},
		{"a namespace selector matches by name", []networkingv1.NetworkPolicy{policy(ingress, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "shop"}}}}})}, "shop", 8222, true, nsLabels, nil},
		{"a namespace and a pod selector: both match", []networkingv1.NetworkPolicy{fromScrapePods}, "monitoring", 8222, true, nsLabels, scrape},
		{"a namespace and a pod selector: the namespace alone is not enough", []networkingv1.NetworkPolicy{fromScrapePods}, "monitoring", 8222, false, nsLabels, nil},
		{"a namespace and a pod selector: the pod alone is not enough", []networkingv1.NetworkPolicy{fromScrapePods}, "shop", 8222, false, nsLabels, scrape},
	} {
		t.Run(c.name, func(t *testing.T) {
			client := src
			if c.srcLabels != nil {
				client = corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: c.srcLabels}}
			}
			if got := ingressAllowed(t, c.policies, c.nsLabels, dst, "headroom", client, c.srcNS, c.port); got != c.want {
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
		allowed := func(port int32) bool {
			return ingressAllowed(t, m.Policies, nil, nats, ns, pod, m.Namespaces[name], port)
		}
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

// TestOpsPortNetworkPolicy reads the Kubernetes manifests and checks
// the NetworkPolicies against every workload serving an ops port
// (HEADROOM_OPS_ADDR): its ops port (/healthz, /readyz, /metrics) takes
// connections only from a pod labelled headroom.dev/scrape=true in a
// namespace labelled the same (the Prometheus README's Kubernetes section
// says to label), not from an unlabelled pod of that namespace, a labelled
// pod of another, or any other workload; its http port (HEADROOM_HTTP_ADDR)
// takes every one of them where it serves routes (the gateway's dashboard,
// API and WebSocket; the collector's push API) and none of them elsewhere:
// the forecaster's, the anomaly detector's, the decider's and the
// executor's add no route to it, so it answers nothing but 404. The
// kubelet's probes come from the node, which NetworkPolicy does not filter
// (networkpolicy.yaml), so they are not modelled here.
func TestOpsPortNetworkPolicy(t *testing.T) {
	m := kubeObjects(t)
	scrape := map[string]string{"headroom.dev/scrape": "true"}
	nsLabels := map[string]map[string]string{"monitoring": scrape, "shop": nil}
	for _, ns := range m.Namespaces {
		if _, ok := nsLabels[ns]; !ok {
			nsLabels[ns] = nil
		}
	}
	type source struct {
		pod corev1.PodTemplateSpec
		ns  string
	}
	pod := func(l map[string]string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: l}}
	}
	prometheus := map[string]string{"app.kubernetes.io/name": "prometheus", "headroom.dev/scrape": "true"}
	scraper := source{pod(prometheus), "monitoring"}
	others := map[string]source{
		"an unlabelled pod of the labelled namespace": {pod(map[string]string{"app.kubernetes.io/name": "grafana"}), "monitoring"},
		"a labelled pod of an unlabelled namespace":   {pod(prometheus), "shop"},
		"a labelled pod beside the services":          {pod(prometheus), "headroom"},
	}
	for name, p := range m.Pods {
		others["the workload "+name] = source{p, m.Namespaces[name]}
	}
	// The workloads whose parts add routes to the http mux (Deps.Mux):
	// gateway.New and collector.New, no other.
	servesRoutes := map[string]bool{"headroom-gateway": true, "headroom-collector": true}
	served := 0
	for name, dst := range m.Pods {
		var opsAddr, httpAddr string
		for _, c := range dst.Spec.Containers {
			if v, ok := envValue(c, "HEADROOM_OPS_ADDR"); ok {
				opsAddr = v
			}
			if v, ok := envValue(c, "HEADROOM_HTTP_ADDR"); ok {
				httpAddr = v
			}
		}
		if opsAddr == "" {
			continue
		}
		served++
		dstNS := m.Namespaces[name]
		ops := addrPort(t, name+" HEADROOM_OPS_ADDR", opsAddr)
		allowed := func(s source, port int32) bool {
			return ingressAllowed(t, m.Policies, nsLabels, dst, dstNS, s.pod, s.ns, port)
		}
		if !allowed(scraper, ops) {
			t.Errorf("%s: a labelled Prometheus of a labelled namespace cannot reach the ops port %d", name, ops)
		}
		for what, s := range others {
			if allowed(s, ops) {
				t.Errorf("%s: %s (namespace %s) may reach the ops port %d", name, what, s.ns, ops)
			}
		}
		if httpAddr == "" {
			continue
		}
		port := addrPort(t, name+" HEADROOM_HTTP_ADDR", httpAddr)
		for what, s := range others {
			if got, want := allowed(s, port), servesRoutes[name]; got != want {
				t.Errorf("%s (serves routes: %v): %s (namespace %s) may reach the http port %d: %v", name, want, what, s.ns, port, got)
			}
		}
		if got, want := allowed(scraper, port), servesRoutes[name]; got != want {
			t.Errorf("%s (serves routes: %v): the labelled Prometheus may reach the http port %d: %v", name, want, port, got)
		}
	}
	if served != 6 {
		t.Errorf("%d workloads serve an ops port, want 6 (the six services)", served)
	}
}
