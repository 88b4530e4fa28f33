package deploy_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// secretEnv reports whether a variable holds a secret by its name: a
// password, token, secret or key, or the executor's webhook header (the
// TLS variables name files, not secrets).
func secretEnv(name string) bool {
	if strings.Contains(name, "_TLS_") {
		return false
	}
	for _, s := range []string{"PASSWORD", "TOKEN", "SECRET", "KEY", "WEBHOOK_HEADER"} {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// TestKubernetesShipsNoSecret, as TestComposeIsSafeByDefault for compose:
// deploy/kubernetes carries no Secret (each is made by hand, as
// kustomization.yaml says), every password, token or key a container
// gets comes from a Secret's key that must exist (not optional: a pod
// whose Secret is missing does not start, rather than start without the
// secret, a gateway without its token serving everyone), none is written
// in a manifest, and the dashboard and the push API each need a token.
func TestKubernetesShipsNoSecret(t *testing.T) {
	m := kubeObjects(t)
	for _, f := range m.SecretFiles {
		t.Errorf("%s ships a Secret: its values would be every install's", f)
	}
	if len(m.Pods) == 0 {
		t.Fatal("no workloads read")
	}
	tokens := map[string]bool{}
	for name, pod := range m.Pods {
		for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
			for _, e := range c.EnvFrom {
				if e.SecretRef != nil && e.SecretRef.Optional != nil && *e.SecretRef.Optional {
					t.Errorf("%s/%s: envFrom Secret %s is optional", name, c.Name, e.SecretRef.Name)
				}
			}
			for _, e := range c.Env {
				if !secretEnv(e.Name) {
					continue
				}
				switch ref := e.ValueFrom; {
				case e.Value != "":
					t.Errorf("%s/%s: %s is written in the manifest", name, c.Name, e.Name)
				case ref == nil || ref.SecretKeyRef == nil:
					t.Errorf("%s/%s: %s does not come from a Secret", name, c.Name, e.Name)
				case ref.SecretKeyRef.Optional != nil && *ref.SecretKeyRef.Optional:
					t.Errorf("%s/%s: %s comes from an optional Secret key (%s/%s): without it the container starts without the secret", name, c.Name, e.Name, ref.SecretKeyRef.Name, ref.SecretKeyRef.Key)
				default:
					tokens[e.Name] = true
				}
			}
		}
	}
	for _, v := range []string{"HEADROOM_GATEWAY_TOKEN", "HEADROOM_PUSH_TOKEN"} {
		if !tokens[v] {
			t.Errorf("no container takes %s from a Secret: the dashboard and the push API run without a token", v)
		}
	}
}
