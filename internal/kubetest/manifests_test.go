package kubetest_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/headroomhq/headroom/internal/kubetest"
)

var manifestDir = filepath.Join("..", "..", "deploy", "kubernetes")

// kustomization is the part of deploy/kubernetes/kustomization.yaml this
// test reads: the files it lists. (It uses no patches or generators, so
// building it is applying those files.)
type kustomization struct {
	Resources []string `json:"resources"`
}

// applyFiles applies the named files of deploy/kubernetes with server-side
// apply, for real or as a server-side dry run.
func applyFiles(t *testing.T, cl *kubetest.Cluster, dryRun bool, files ...string) []*unstructured.Unstructured {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(cl.Config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(cl.Config)
	if err != nil {
		t.Fatal(err)
	}
	var applied []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(manifestDir, f))
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
			var obj unstructured.Unstructured
			if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(obj.Object) == 0 {
				continue // a comment-only document
			}
			gvk := obj.GroupVersionKind()
			m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
			if err != nil {
				t.Fatalf("%s: %s: %v", f, gvk, err)
			}
			if obj.GetNamespace() == "" && m.Scope.Name() == "namespace" {
				t.Fatalf("%s: %s %s names no namespace", f, gvk.Kind, obj.GetName())
			}
			body, err := obj.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			opts := metav1.PatchOptions{FieldManager: "headroom-test", Force: new(true)}
			if dryRun {
				opts.DryRun = []string{metav1.DryRunAll}
			}
			res := dyn.Resource(m.Resource).Namespace(obj.GetNamespace())
			out, err := res.Patch(context.Background(), obj.GetName(), types.ApplyPatchType, body, opts)
			if err != nil {
				t.Fatalf("%s: apply %s %s/%s: %v", f, gvk.Kind, obj.GetNamespace(), obj.GetName(), err)
			}
			applied = append(applied, out)
		}
	}
	return applied
}

// TestManifests applies deploy/kubernetes to a real API server with
// server-side dry-run, so the manifests stay valid, and checks that the
// executor's service account can do what the driver needs and nothing more.
func TestManifests(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(manifestDir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	if len(k.Resources) == 0 {
		t.Fatal("kustomization.yaml lists no resources")
	}
	cl := kubetest.Start(t, kubetest.Options{})
	ctx := context.Background()
	// The namespaces are created for real (a dry-run namespace holds nothing).
	for _, ns := range []string{"headroom", "shop"} {
		if _, err := cl.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	objs := applyFiles(t, cl, true, k.Resources...)
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
	}
	t.Logf("server-side dry-run accepted %d objects: %v", len(objs), kinds)
	if kinds["Deployment"] != 6 || kinds["StatefulSet"] != 1 || kinds["Role"] != 1 || kinds["RoleBinding"] != 1 || kinds["Job"] != 1 || kinds["NetworkPolicy"] != 3 || kinds["ConfigMap"] != 1 {
		t.Fatalf("objects %v: want 6 Deployments, NATS's StatefulSet, the provisioning Job, the executor's Role and RoleBinding, the NetworkPolicies of NATS, of the services' ops port and of the http port of the gateway and the collector, NATS's TLS configuration (ConfigMap)", kinds)
	}
	// The collector's push API listens beyond loopback (:8080), where it
	// refuses to start without a token: the token comes from a Secret. So
	// does the dashboard's, which any pod could read without one.
	if !takesSecret(t, objs, "headroom-collector", "HEADROOM_PUSH_TOKEN") {
		t.Fatal("the headroom-collector Deployment takes no HEADROOM_PUSH_TOKEN from a Secret: its push API would refuse to start on :8080")
	}
	if !takesSecret(t, objs, "headroom-gateway", "HEADROOM_GATEWAY_TOKEN") {
		t.Fatal("the headroom-gateway Deployment takes no HEADROOM_GATEWAY_TOKEN from a Secret: any pod could read the dashboard")
	}
	// deploy/nats.conf lets each user receive only on its own inbox prefix.
	for _, bad := range wrongInboxPrefixes(t, objs) {
		t.Error(bad)
	}

	// Least privilege: apply the RBAC for real and ask the API server what
	// the executor's service account may do.
	applyFiles(t, cl, false, "executor.yaml", "rbac.yaml")
	can := func(ns, verb, group, resource, sub string) bool {
		t.Helper()
		r, err := cl.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authv1.SubjectAccessReview{Spec: authv1.SubjectAccessReviewSpec{
			User: executorIdentity, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:headroom", "system:authenticated"},
			ResourceAttributes: &authv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: group, Resource: resource, Subresource: sub},
		}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return r.Status.Allowed
	}
	// The authoriser reads roles and bindings from its informers' caches,
	// so a binding just created is in force a moment later: wait for it
	// before asking what it allows and denies.
	for deadline := time.Now().Add(30 * time.Second); !can("shop", "get", "apps", "deployments", ""); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the executor's RoleBinding was not in force 30 s after it was applied")
		}
	}
	for _, a := range []struct {
		ns, verb, group, resource, sub string
		want                           bool
	}{
		{"shop", "get", "apps", "deployments", "", true},
		{"shop", "list", "apps", "statefulsets", "", true},
		{"shop", "watch", "apps", "deployments", "", true},
		{"shop", "patch", "apps", "deployments", "scale", true},
		{"shop", "patch", "apps", "statefulsets", "scale", true},
		{"shop", "list", "autoscaling", "horizontalpodautoscalers", "", true},
		// The driver lists a namespace's HPAs (kube.go refuses a workload
		// one scales) and never gets or watches one.
		{"shop", "get", "autoscaling", "horizontalpodautoscalers", "", false},
		{"shop", "watch", "autoscaling", "horizontalpodautoscalers", "", false},
		{"shop", "patch", "apps", "deployments", "", false},
		{"shop", "update", "apps", "deployments", "scale", false},
		{"shop", "delete", "apps", "deployments", "", false},
		{"shop", "create", "apps", "deployments", "", false},
		{"shop", "get", "", "secrets", "", false},
		{"shop", "list", "", "pods", "", false},
		{"shop", "patch", "autoscaling", "horizontalpodautoscalers", "", false},
		{"default", "get", "apps", "deployments", "", false},
		{"headroom", "patch", "apps", "deployments", "scale", false},
		{"kube-system", "list", "apps", "deployments", "", false},
	} {
		if got := can(a.ns, a.verb, a.group, a.resource, a.sub); got != a.want {
			t.Errorf("executor may %s %s/%s %s in %s: %v, want %v", a.verb, a.group, a.resource, a.sub, a.ns, got, a.want)
		}
	}
	for _, f := range k.Resources {
		if strings.Contains(f, "..") {
			t.Errorf("kustomization resource %q leaves deploy/kubernetes", f)
		}
	}
}

// takesSecret reports whether the applied Deployment name sets the
// environment variable env from a Secret.
func takesSecret(t *testing.T, objs []*unstructured.Unstructured, name, env string) bool {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() != "Deployment" || o.GetName() != name {
			continue
		}
		containers, _, err := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range containers {
			vars, _, _ := unstructured.NestedSlice(c.(map[string]any), "env")
			for _, e := range vars {
				e := e.(map[string]any)
				if n, _ := e["name"].(string); n != env {
					continue
				}
				if secret, _, _ := unstructured.NestedString(e, "valueFrom", "secretKeyRef", "name"); secret != "" {
					return true
				}
			}
		}
	}
	return false
}

// wrongInboxPrefixes names each applied container whose NATS user X runs
// without HEADROOM_NATS_INBOX_PREFIX _INBOX_X, the only inbox deploy/nats.conf
// lets X receive on.
func wrongInboxPrefixes(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	var bad []string
	for _, o := range objs {
		containers, _, err := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		if err != nil || containers == nil {
			continue
		}
		for _, c := range containers {
			env, _, _ := unstructured.NestedSlice(c.(map[string]any), "env")
			vars := map[string]string{}
			for _, e := range env {
				e := e.(map[string]any)
				name, _ := e["name"].(string)
				value, _ := e["value"].(string)
				vars[name] = value
			}
			if user := vars["HEADROOM_NATS_USER"]; user != "" && vars["HEADROOM_NATS_INBOX_PREFIX"] != "_INBOX_"+user {
				bad = append(bad, fmt.Sprintf("%s %s: HEADROOM_NATS_INBOX_PREFIX=%q, want _INBOX_%s", o.GetKind(), o.GetName(), vars["HEADROOM_NATS_INBOX_PREFIX"], user))
			}
		}
	}
	return bad
}
