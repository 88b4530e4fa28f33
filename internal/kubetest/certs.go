package kubetest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/headroomhq/headroom/internal/testpki"
)

// pki holds the paths of the certificates and keys a test control plane uses.
type pki struct {
	caCert, caKey        string
	servingCert, servKey string
	adminCert, adminKey  string
	saKey, saPub         string
	caPEM, adminCertPEM  []byte
	adminKeyPEM          []byte
}

// newPKI writes a self-signed CA, an API server serving certificate for the
// loopback address, an admin client certificate (group system:masters) and
// a service-account signing key pair into dir.
func newPKI(dir string) (*pki, error) {
	p := &pki{
		caCert: filepath.Join(dir, "ca.crt"), caKey: filepath.Join(dir, "ca.key"),
		servingCert: filepath.Join(dir, "apiserver.crt"), servKey: filepath.Join(dir, "apiserver.key"),
		adminCert: filepath.Join(dir, "admin.crt"), adminKey: filepath.Join(dir, "admin.key"),
		saKey: filepath.Join(dir, "sa.key"), saPub: filepath.Join(dir, "sa.pub"),
	}
	ca, err := testpki.NewCA("headroom-kubetest-ca")
	if err != nil {
		return nil, err
	}
	p.caPEM = ca.PEM
	if err := writeFiles(map[string][]byte{p.caCert: p.caPEM, p.caKey: testpki.KeyPEM(ca.Key)}); err != nil {
		return nil, err
	}
	servCert, servKey, err := ca.Issue(testpki.Leaf{Subject: pkix.Name{CommonName: "kube-apiserver"}, Usage: x509.ExtKeyUsageServerAuth,
		IPs: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv4(10, 0, 0, 1)}, DNS: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"}})
	if err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	p.adminCertPEM, p.adminKeyPEM, err = ca.Issue(testpki.Leaf{Subject: pkix.Name{CommonName: "kubetest-admin", Organization: []string{"system:masters"}},
		Usage: x509.ExtKeyUsageClientAuth})
	if err != nil {
		return nil, fmt.Errorf("admin certificate: %w", err)
	}
	sa, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&sa.PublicKey)
	if err != nil {
		return nil, err
	}
	return p, writeFiles(map[string][]byte{
		p.servingCert: servCert, p.servKey: servKey, p.adminCert: p.adminCertPEM, p.adminKey: p.adminKeyPEM,
		p.saKey: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(sa)}),
		p.saPub: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
	})
}

func writeFiles(files map[string][]byte) error {
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// kubeconfig returns a kubeconfig for the admin user of the API server at url.
func (p *pki) kubeconfig(url string) []byte {
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: kubetest
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: admin
  user:
    client-certificate-data: %s
    client-key-data: %s
contexts:
- name: kubetest
  context: {cluster: kubetest, user: admin}
current-context: kubetest
`, url, b64(p.caPEM), b64(p.adminCertPEM), b64(p.adminKeyPEM))
}
