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
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// kubeManifests are the objects of deploy/kubernetes the tests check.
type kubeManifests struct {
	// Pods are the pod templates of the Deployments, StatefulSets and
	// Jobs, by workload name.
	Pods     map[string]corev1.PodTemplateSpec
	Policies []networkingv1.NetworkPolicy
	Services []corev1.Service
}

// kubeObjects reads every object of the files deploy/kubernetes's
// kustomization lists, as kubectl apply -k would: the pod templates by
// workload name, the NetworkPolicies and the Services.
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
	m := kubeManifests{Pods: map[string]corev1.PodTemplateSpec{}}
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
				m.Pods[o.Name] = o.Spec.Template
			case "StatefulSet":
				var o appsv1.StatefulSet
				if err := yaml.UnmarshalStrict(doc, &o); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				m.Pods[o.Name] = o.Spec.Template
			case "Job":
				var o batchv1.Job
				if err := yaml.UnmarshalStrict(doc, &o); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				m.Pods[o.Name] = o.Spec.Template
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

// TestNATSTakesOnlyHeadroomClients reads the Kubernetes manifests as
// kubectl apply -k would and checks the NATS NetworkPolicy against the
// workloads beside it: it isolates the NATS pods; every workload with a
// NATS identity (HEADROOM_NATS_USER) may reach the client port, and no
// other; no pod may reach the monitoring port; only NATS pods the cluster
// port. A workload added without its place in the policy, or a policy
// whose selector drifts from the NATS labels, fails here.
func TestNATSTakesOnlyHeadroomClients(t *testing.T) {
	m := kubeObjects(t)
	pods, policies := m.Pods, m.Policies
	nats, ok := pods["nats"]
	if !ok {
		t.Fatal("no nats StatefulSet in the kustomization")
	}
	var pol *networkingv1.NetworkPolicy
	for i, p := range policies {
		sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
		if err != nil {
			t.Fatalf("NetworkPolicy %s: %v", p.Name, err)
		}
		if sel.Matches(labels.Set(nats.Labels)) {
			pol = &policies[i]
		}
	}
	if pol == nil {
		t.Fatal("no NetworkPolicy selects the NATS pods: any pod of the cluster reaches NATS")
	}
	if !slices.Contains(pol.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) {
		t.Fatalf("NetworkPolicy %s: policy types %v, want Ingress", pol.Name, pol.Spec.PolicyTypes)
	}
	// allowed says whether pod may open a connection to NATS's port.
	allowed := func(pod corev1.PodTemplateSpec, port int32) bool {
		for _, rule := range pol.Spec.Ingress {
			if len(rule.Ports) > 0 && !slices.ContainsFunc(rule.Ports, func(p networkingv1.NetworkPolicyPort) bool {
				return p.Port != nil && p.Port.IntValue() == int(port)
			}) {
				continue
			}
			if len(rule.From) == 0 {
				return true // from everywhere
			}
			for _, peer := range rule.From {
				if peer.IPBlock != nil || peer.NamespaceSelector != nil || peer.PodSelector == nil {
					return true // beyond this namespace's pods: treated as everyone
				}
				sel, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
				if err != nil {
					t.Fatalf("NetworkPolicy %s: %v", pol.Name, err)
				}
				if sel.Matches(labels.Set(pod.Labels)) {
					return true
				}
			}
		}
		return false
	}
	stranger := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app.kubernetes.io/name": "shop-web", "app.kubernetes.io/part-of": "headroom"}}}
	pods["a pod of another workload, even one labelled part-of headroom"] = stranger
	clients := 0
	for name, pod := range pods {
		identity := setsEnv(pod, "HEADROOM_NATS_USER")
		if identity {
			clients++
		}
		if got := allowed(pod, 4222); got != identity {
			t.Errorf("%s (NATS identity: %v) may reach NATS's client port: %v", name, identity, got)
		}
		if allowed(pod, 8222) {
			t.Errorf("%s may reach NATS's monitoring port", name)
		}
		if got, want := allowed(pod, 6222), name == "nats"; got != want {
			t.Errorf("%s may reach NATS's cluster port: %v, want %v", name, got, want)
		}
	}
	if clients != 7 {
		t.Errorf("%d workloads hold a NATS identity, want 7 (provision and the six services)", clients)
	}
}
