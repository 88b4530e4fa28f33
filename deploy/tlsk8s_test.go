package deploy_test

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/headroomhq/headroom/internal/bus"
	"github.com/headroomhq/headroom/internal/cli"
	"github.com/headroomhq/headroom/internal/natstest"
	"github.com/headroomhq/headroom/internal/testpki"
)

// natsTLSSecret holds NATS's certificate and key and the CA that signed
// them (tls.crt, tls.key, ca.crt).
const natsTLSSecret = "headroom-nats-tls"

// volumeFile is a file a pod volume shows: key of the Secret or ConfigMap
// name (Kind) at At in the container, with permission bits Mode (the
// item's mode, else the volume's defaultMode, else 0644). Key "*" stands
// for every key of a source projected without items, each at At/<key>.
type volumeFile struct {
	Kind, Name, Key string
	At              string
	ReadOnly        bool
	Mode            int32
}

// containerFiles lists the Secret and ConfigMap files container c of pod
// sees through its volume mounts (a secret, a configMap or a projected
// volume of them). A mount with a subPath is beyond the model and fails
// the test.
func containerFiles(t *testing.T, pod corev1.PodSpec, c corev1.Container) []volumeFile {
	t.Helper()
	vols := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	var out []volumeFile
	for _, m := range c.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			continue // a StatefulSet's volume claim: no Secret or ConfigMap
		}
		add := func(kind, name string, items []corev1.KeyToPath, defaultMode *int32) {
			mode := func(item *int32) int32 {
				switch {
				case item != nil:
					return *item
				case defaultMode != nil:
					return *defaultMode
				}
				return corev1.SecretVolumeSourceDefaultMode
			}
			if m.SubPath != "" {
				t.Fatalf("container %s mounts %s %s with a subPath, which this model does not follow", c.Name, kind, name)
			}
			if len(items) == 0 {
				out = append(out, volumeFile{Kind: kind, Name: name, Key: "*", At: m.MountPath, ReadOnly: m.ReadOnly, Mode: mode(nil)})
			}
			for _, it := range items {
				out = append(out, volumeFile{Kind: kind, Name: name, Key: it.Key, At: path.Join(m.MountPath, it.Path), ReadOnly: m.ReadOnly, Mode: mode(it.Mode)})
			}
		}
		switch {
		case v.Secret != nil:
			add("Secret", v.Secret.SecretName, v.Secret.Items, v.Secret.DefaultMode)
		case v.ConfigMap != nil:
			add("ConfigMap", v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.DefaultMode)
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				switch {
				case s.Secret != nil:
					add("Secret", s.Secret.Name, s.Secret.Items, v.Projected.DefaultMode)
				case s.ConfigMap != nil:
					add("ConfigMap", s.ConfigMap.Name, s.ConfigMap.Items, v.Projected.DefaultMode)
				}
			}
		}
	}
	return out
}

// secretFileReadable says whether container c of pod, by the user and
// groups its security contexts give it, can read a file of a Secret volume
// with permission bits perm, as the kubelet lays the file out: owned by
// root and group root, or, with the pod's fsGroup, by that group, with read
// for the group added (the kubelet's SetVolumeOwnership). A user the
// manifests do not name (the image's) is not known to read it.
func secretFileReadable(pod corev1.PodSpec, c corev1.Container, perm int32) bool {
	psc := pod.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	uid, gid := psc.RunAsUser, psc.RunAsGroup
	if c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil {
		uid = c.SecurityContext.RunAsUser
	}
	if c.SecurityContext != nil && c.SecurityContext.RunAsGroup != nil {
		gid = c.SecurityContext.RunAsGroup
	}
	fileGroup := int64(0)
	if psc.FSGroup != nil {
		fileGroup, perm = *psc.FSGroup, perm|0o440
	}
	groups := slices.Clone(psc.SupplementalGroups)
	if psc.FSGroup != nil {
		groups = append(groups, *psc.FSGroup)
	}
	if gid != nil {
		groups = append(groups, *gid)
	}
	switch {
	case perm&0o004 != 0:
		return true
	case uid == nil:
		return false
	case *uid == 0:
		return perm&0o400 != 0 // the owner: no capability to override modes
	}
	return perm&0o040 != 0 && slices.Contains(groups, fileGroup)
}

// fileAt says which Secret or ConfigMap key backs the file at p in a
// container with files.
func fileAt(files []volumeFile, p string) (volumeFile, bool) {
	for _, f := range files {
		switch {
		case f.Key == "*" && path.Dir(p) == f.At:
			f.Key, f.At = path.Base(p), p
			return f, true
		case f.Key != "*" && f.At == p:
			return f, true
		}
	}
	return volumeFile{}, false
}

// materialize writes under root the files container c of pod sees, from
// sources ("Secret/<name>" or "ConfigMap/<name>": key to content); a
// source not given is left out. A ConfigMap's file names paths in the
// container: each mount path in it is moved under root, as the container's
// view of the other files is.
func materialize(t *testing.T, root string, pod corev1.PodSpec, c corev1.Container, sources map[string]map[string][]byte) {
	t.Helper()
	var moves []string
	for _, m := range c.VolumeMounts {
		moves = append(moves, m.MountPath+"/", root+m.MountPath+"/")
	}
	under := strings.NewReplacer(moves...)
	for _, f := range containerFiles(t, pod, c) {
		data, ok := sources[f.Kind+"/"+f.Name]
		if !ok {
			continue
		}
		keys := []string{f.Key}
		if f.Key == "*" {
			keys = nil
			for k := range data {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			content, ok := data[k]
			if !ok {
				t.Fatalf("%s %s has no key %s", f.Kind, f.Name, k)
			}
			at := f.At
			if f.Key == "*" {
				at = path.Join(f.At, k)
			}
			if f.Kind == "ConfigMap" {
				content = []byte(under.Replace(string(content)))
			}
			p := filepath.Join(root, filepath.FromSlash(at))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, content, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// certManagerDNSNames are the DNS names optional/cert-manager.yaml's
// Certificate for the headroom-nats-tls Secret asks for: the names the
// server's certificate must carry.
func certManagerDNSNames(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("kubernetes", "optional", "cert-manager.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for doc := range strings.SplitSeq(string(data), "\n---\n") {
		var o struct {
			Kind string `json:"kind"`
			Spec struct {
				SecretName string   `json:"secretName"`
				DNSNames   []string `json:"dnsNames"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
			t.Fatalf("cert-manager.yaml: %v", err)
		}
		if o.Kind == "Certificate" && o.Spec.SecretName == natsTLSSecret {
			return o.Spec.DNSNames
		}
	}
	t.Fatalf("cert-manager.yaml has no Certificate for the %s Secret", natsTLSSecret)
	return nil
}

// natsCommand is the configuration file the NATS container runs (-c).
func natsCommand(t *testing.T, c corev1.Container) string {
	t.Helper()
	args := append(slices.Clone(c.Command), c.Args...)
	i := slices.Index(args, "-c")
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("the NATS container's arguments %q name no configuration file (-c)", args)
	}
	return args[i+1]
}

// TestTLSKubernetesManifests reads the Kubernetes manifests as kubectl
// apply -k would: every container with a NATS identity (HEADROOM_NATS_USER)
// dials a tls:// URL whose host the server's certificate names
// (optional/cert-manager.yaml's dnsNames, as the openssl commands in
// kustomization.yaml) and trusts, by HEADROOM_NATS_TLS_CA, the ca.crt of
// the headroom-nats-tls Secret, mounted read-only and alone; the NATS
// container mounts the Secret's tls.crt and tls.key (the key readable by
// its user, as the kubelet lays the file out, and not by every user) and
// runs a configuration from the manifests' ConfigMap that includes the generated
// nats.conf beside it; no other container sees tls.key, by a volume or
// the environment.
func TestTLSKubernetesManifests(t *testing.T) {
	m := kubeObjects(t)
	sans := certManagerDNSNames(t)
	kustomization, err := os.ReadFile(filepath.Join("kubernetes", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(kustomization), "subjectAltName=")
	if !ok {
		t.Fatal("kustomization.yaml's openssl commands give the server's certificate no subjectAltName")
	}
	var documented []string
	for n := range strings.SplitSeq(strings.FieldsFunc(after, func(r rune) bool { return r == '\'' || r == ' ' || r == '\n' })[0], ",") {
		documented = append(documented, strings.TrimPrefix(n, "DNS:"))
	}
	if !slices.Equal(documented, sans) {
		t.Errorf("kustomization.yaml's openssl commands name %q, cert-manager.yaml %q: keep them equal", documented, sans)
	}

	clients := 0
	for name, pod := range m.Pods {
		for _, c := range pod.Spec.Containers {
			files := containerFiles(t, pod.Spec, c)
			for _, f := range files {
				if f.Kind == "Secret" && f.Name == natsTLSSecret && (f.Key == "tls.key" || f.Key == "*") && name != "nats" {
					t.Errorf("%s/%s mounts %s's %s at %s: only NATS may see the server's key", name, c.Name, natsTLSSecret, f.Key, f.At)
				}
			}
			for _, e := range c.Env {
				if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil && r.SecretKeyRef.Name == natsTLSSecret && r.SecretKeyRef.Key == "tls.key" {
					t.Errorf("%s/%s takes %s's tls.key into %s", name, c.Name, natsTLSSecret, e.Name)
				}
			}
			for _, e := range c.EnvFrom {
				if e.SecretRef != nil && e.SecretRef.Name == natsTLSSecret {
					t.Errorf("%s/%s takes all of %s into its environment", name, c.Name, natsTLSSecret)
				}
			}
			user, ok := envValue(c, "HEADROOM_NATS_USER")
			if !ok {
				continue
			}
			clients++
			raw, _ := envValue(c, "HEADROOM_NATS_URL")
			u, err := url.Parse(raw)
			switch {
			case err != nil:
				t.Errorf("%s/%s (NATS user %s): HEADROOM_NATS_URL %q: %v", name, c.Name, user, raw, err)
			case u.Scheme != "tls":
				t.Errorf("%s/%s (NATS user %s): HEADROOM_NATS_URL %q, want a tls:// URL", name, c.Name, user, raw)
			case !slices.Contains(sans, u.Hostname()):
				t.Errorf("%s/%s (NATS user %s): dials %s, which the server's certificate does not name (%q)", name, c.Name, user, u.Hostname(), sans)
			}
			ca, _ := envValue(c, "HEADROOM_NATS_TLS_CA")
			if f, ok := fileAt(files, ca); !ok || f.Kind != "Secret" || f.Name != natsTLSSecret || f.Key != "ca.crt" || !f.ReadOnly {
				t.Errorf("%s/%s (NATS user %s): HEADROOM_NATS_TLS_CA %q is %+v (found %v), want %s's ca.crt mounted read-only", name, c.Name, user, ca, f, ok, natsTLSSecret)
			}
			for _, f := range files {
				if f.Kind == "Secret" && f.Name == natsTLSSecret && f.Key != "ca.crt" {
					t.Errorf("%s/%s mounts %s's %s at %s: a client needs only ca.crt", name, c.Name, natsTLSSecret, f.Key, f.At)
				}
			}
		}
	}
	if clients != 7 {
		t.Errorf("%d containers hold a NATS identity, want 7 (provisioning and the six services)", clients)
	}

	natsPod, ok := m.Pods["nats"]
	if !ok || len(natsPod.Spec.Containers) != 1 {
		t.Fatal("want the nats StatefulSet with one container")
	}
	c := natsPod.Spec.Containers[0]
	files := containerFiles(t, natsPod.Spec, c)
	for _, key := range []string{"tls.crt", "tls.key"} {
		if !slices.ContainsFunc(files, func(f volumeFile) bool {
			return f.Kind == "Secret" && f.Name == natsTLSSecret && (f.Key == key || f.Key == "*") && f.ReadOnly
		}) {
			t.Errorf("the NATS container does not mount %s's %s read-only", natsTLSSecret, key)
		}
	}
	for _, f := range files {
		if f.Kind != "Secret" || f.Name != natsTLSSecret || (f.Key != "tls.key" && f.Key != "*") {
			continue
		}
		if !secretFileReadable(natsPod.Spec, c, f.Mode) {
			t.Errorf("the NATS container's user cannot read %s (mode %#o; the kubelet gives it to the pod's fsGroup, else to root): NATS would not start", f.At, f.Mode)
		}
		if f.Mode&0o004 != 0 {
			t.Errorf("%s has mode %#o: readable by every user of the container, want the NATS user's group alone", f.At, f.Mode)
		}
	}
	conf := natsCommand(t, c)
	f, ok := fileAt(files, conf)
	if !ok || f.Kind != "ConfigMap" {
		t.Fatalf("NATS runs %s, which no ConfigMap mounted in its container backs", conf)
	}
	cm, ok := m.ConfigMaps[f.Name]
	if !ok || !strings.Contains(cm.Data[f.Key], "\ninclude nats.conf\n") {
		t.Fatalf("NATS runs %s (ConfigMap %s, key %s), which the manifests do not carry or which does not include nats.conf", conf, f.Name, f.Key)
	}
	if g, ok := fileAt(files, path.Join(path.Dir(conf), "nats.conf")); !ok || g.Kind != "ConfigMap" || g.Name != "headroom-nats" || g.Key != "nats.conf" {
		t.Errorf("beside %s, nats.conf is %+v (found %v), want the headroom-nats ConfigMap's nats.conf (deploy/nats.conf)", conf, g, ok)
	}
}

// containerBusConfig is the NATS client configuration container c of
// workload name starts with: its environment read by bus.Config's own
// flags (RegisterFlags, as the services and provisioning register them),
// so a variable the manifests set under a name no flag reads is not
// taken. A password from the headroom-nats-passwords Secret is
// <key>-secret, as setPasswords gives the server; file paths are the
// container's.
func containerBusConfig(t *testing.T, name string, c corev1.Container) bus.Config {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		switch r := e.ValueFrom; {
		case r == nil:
			env[e.Name] = e.Value
		case r.SecretKeyRef != nil && r.SecretKeyRef.Name == "headroom-nats-passwords":
			env[e.Name] = r.SecretKeyRef.Key + "-secret"
		}
	}
	cfg := bus.DefaultConfig()
	f := cli.New(name, func(k string) string { return env[k] })
	cfg.RegisterFlags(f)
	if err := f.Parse(nil); err != nil {
		t.Fatalf("%s/%s: %v", name, c.Name, err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("%s/%s: %v", name, c.Name, err)
	}
	cfg.Name = name
	return cfg
}

// redirect dials addr whatever address a client asks for: a client can
// dial the manifests' URL (tls://nats.headroom.svc:4222) and check the
// server's certificate against that host, while the server runs on a
// loopback port.
type redirect struct{ addr string }

func (r redirect) Dial(network, _ string) (net.Conn, error) {
	return net.DialTimeout(network, r.addr, 5*time.Second)
}

// TestTLSKubernetesServer starts NATS as its container in the manifests
// would: the files it sees are laid out under a temporary root (the
// configuration from the manifests' ConfigMap, the generated
// deploy/nats.conf as the headroom-nats ConfigMap, the headroom-nats-tls
// Secret made with internal/testpki for cert-manager.yaml's DNS names), and
// it runs the file its -c names. A client that does not start TLS is
// refused; each of the seven NATS identities, laid out and configured as
// its container is (URL, user, password key, inbox, CA), connects over TLS
// and can do what its identity may and not what it may not; a client that
// does not trust the CA, or dials a name the certificate lacks, cannot
// connect. A renewed certificate written over the Secret's files is
// served after a reload, and a connection open before it stays.
func TestTLSKubernetesServer(t *testing.T) {
	m := kubeObjects(t)
	ca, err := testpki.NewCA("headroom-nats-ca")
	if err != nil {
		t.Fatal(err)
	}
	crt, key, err := ca.Issue(testpki.Leaf{Subject: pkix.Name{CommonName: "nats.headroom.svc"}, Usage: x509.ExtKeyUsageServerAuth, DNS: certManagerDNSNames(t)})
	if err != nil {
		t.Fatal(err)
	}
	natsConf, err := os.ReadFile("nats.conf")
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]map[string][]byte{
		"Secret/" + natsTLSSecret: {"tls.crt": crt, "tls.key": key, "ca.crt": ca.PEM},
		"ConfigMap/headroom-nats": {"nats.conf": natsConf},
	}
	for name, cm := range m.ConfigMaps {
		data := map[string][]byte{}
		for k, v := range cm.Data {
			data[k] = []byte(v)
		}
		sources["ConfigMap/"+name] = data
	}

	natsPod := m.Pods["nats"]
	if len(natsPod.Spec.Containers) != 1 {
		t.Fatal("want the nats StatefulSet with one container")
	}
	root := t.TempDir()
	materialize(t, root, natsPod.Spec, natsPod.Spec.Containers[0], sources)
	setPasswords(t)
	conf, storeDir := filepath.Join(root, natsCommand(t, natsPod.Spec.Containers[0])), ""
	s := startConfigured(t, conf, func(o *server.Options) { storeDir = o.StoreDir })
	addr := s.Addr().String()
	dial := nats.SetCustomDialer(redirect{addr})

	// No TLS: refused before anything is read (the raw client sends its
	// CONNECT in the clear, which the server takes as a failed handshake).
	if c, answer := natstest.DialClient(t, "nats://"+addr, map[string]any{"user": "collector", "pass": "collector-secret"}); c != nil {
		t.Error("a client without TLS connected with the collector's password")
	} else {
		t.Logf("a client without TLS: the server answered %q", answer)
	}

	// Each identity as its container is configured.
	var caFile, natsURL string
	clients := 0
	for name, pod := range m.Pods {
		for _, c := range pod.Spec.Containers {
			user, ok := envValue(c, "HEADROOM_NATS_USER")
			if !ok {
				continue
			}
			clients++
			croot := t.TempDir()
			materialize(t, croot, pod.Spec, c, sources)
			cfg := containerBusConfig(t, name, c)
			if cfg.TLSCA != "" {
				cfg.TLSCA = filepath.Join(croot, cfg.TLSCA)
				caFile, natsURL = cfg.TLSCA, cfg.URL
			}
			opts, err := cfg.ClientOptions()
			if err != nil {
				t.Fatal(err)
			}
			nc, err := nats.Connect(cfg.URL, append(opts, dial, nats.Timeout(5*time.Second))...)
			if err != nil {
				t.Errorf("%s (NATS user %s) connecting as its container does: %v", name, user, err)
				continue
			}
			if st, err := nc.TLSConnectionState(); err != nil || !st.HandshakeComplete {
				t.Errorf("%s (NATS user %s) connected without TLS (%v)", name, user, err)
			}
			nc.Close()
		}
	}
	if clients != 7 {
		t.Errorf("%d containers hold a NATS identity, want 7", clients)
	}
	if caFile == "" {
		t.Fatal("no container trusts a CA: the identities' rights over TLS are not tried")
	}

	// What identities may and may not do, over TLS.
	trusted := []nats.Option{nats.RootCAs(caFile), dial, nats.Timeout(5 * time.Second)}
	for _, c := range []struct {
		user, subject string
		allowed       bool
	}{
		{"collector", "apm.metrics.shop.web", true},
		{"collector", "apm.decision.shop.web", false},
		{"decider", "apm.decision.shop.web", true},
		{"executor", "apm.scaling.shop.web", true},
		{"gateway", "apm.metrics.shop.web", false},
	} {
		if got := canPublish(t, natsURL, c.user, c.subject, trusted...); got != c.allowed {
			t.Errorf("%s publishing %s over TLS: allowed=%v, want %v", c.user, c.subject, got, c.allowed)
		}
	}
	nc := probe(t, natsURL, "provision", trusted...)
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.AccountInfo(ctx); err != nil {
		t.Errorf("provision asking JetStream over TLS: %v", err)
	}

	// A renewal: the kubelet replaces the Secret's files, and a reload
	// (nats-server --signal reload, SIGHUP) makes NATS serve the new
	// certificate, without a restart: a connection open before it stays.
	renewed, renewedKey, err := ca.Issue(testpki.Leaf{Subject: pkix.Name{CommonName: "nats.headroom.svc"}, Usage: x509.ExtKeyUsageServerAuth, DNS: certManagerDNSNames(t)})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(renewed)
	if block == nil {
		t.Fatal("testpki's certificate is not PEM")
	}
	want, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	materialize(t, root, natsPod.Spec, natsPod.Spec.Containers[0], map[string]map[string][]byte{
		"Secret/" + natsTLSSecret: {"tls.crt": renewed, "tls.key": renewedKey, "ca.crt": ca.PEM},
	})
	if err := s.ReloadOptions(configuredOptions(t, conf, storeDir)); err != nil {
		t.Fatalf("reloading NATS with the renewed certificate: %v", err)
	}
	if err := nc.Flush(); err != nil || nc.Stats().Reconnects != 0 {
		t.Errorf("provision's connection across the reload: flush %v, %d reconnects", err, nc.Stats().Reconnects)
	}
	fresh := probe(t, natsURL, "collector", trusted...)
	st, err := fresh.TLSConnectionState()
	fresh.Close()
	switch {
	case err != nil || len(st.PeerCertificates) == 0:
		t.Errorf("after the reload: no server certificate (%v)", err)
	case st.PeerCertificates[0].SerialNumber.Cmp(want.SerialNumber) != 0:
		t.Errorf("after the reload NATS serves the certificate with serial %v, want the renewed one's, %v", st.PeerCertificates[0].SerialNumber, want.SerialNumber)
	}

	// Clients that must not connect.
	other, err := testpki.NewCA("another-ca")
	if err != nil {
		t.Fatal(err)
	}
	otherFile := filepath.Join(t.TempDir(), "other.crt")
	if err := os.WriteFile(otherFile, other.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = net.JoinHostPort("nats.elsewhere.svc", u.Port())
	elsewhere := u.String()
	for _, c := range []struct {
		what, url string
		opts      []nats.Option
		want      any // the error the certificate check fails with
	}{
		{"trusting only the system's CAs", natsURL, nil, new(x509.UnknownAuthorityError)},
		{"trusting another CA", natsURL, []nats.Option{nats.RootCAs(otherFile)}, new(x509.UnknownAuthorityError)},
		{"dialing a name the certificate lacks", elsewhere, []nats.Option{nats.RootCAs(caFile)}, new(x509.HostnameError)},
	} {
		nc, err := nats.Connect(c.url, append(c.opts, nats.UserInfo("collector", "collector-secret"), dial, nats.Timeout(5*time.Second))...)
		if err == nil {
			nc.Close()
			t.Errorf("a client %s connected", c.what)
			continue
		}
		if !errors.As(err, c.want) {
			t.Errorf("a client %s: %v, want a %T", c.what, err, c.want)
		}
	}
}
