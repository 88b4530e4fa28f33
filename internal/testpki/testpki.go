// Package testpki makes throwaway certificate authorities and the leaf
// certificates they sign, for tests that run real TLS servers: NATS with
// client certificates (internal/bus) and the Kubernetes API server
// (internal/kubetest). Keys are ECDSA P-256; certificates are valid from an
// hour ago for a day. Nothing here is fit for anything but tests.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"time"
)

// CA is a self-signed certificate authority.
type CA struct {
	// Cert is the CA's certificate and PEM its PEM encoding.
	Cert *x509.Certificate
	PEM  []byte
	// Key is the CA's private key.
	Key *ecdsa.PrivateKey
}

// Leaf says what certificate Issue signs.
type Leaf struct {
	// Subject names the holder (a Kubernetes client's groups are its
	// Organization).
	Subject pkix.Name
	// Usage is ExtKeyUsageServerAuth or ExtKeyUsageClientAuth.
	Usage x509.ExtKeyUsage
	// IPs and DNS are the names a serving certificate is valid for.
	IPs []net.IP
	DNS []string
}

// validity is every certificate's window: from an hour ago, for a day.
func validity() (notBefore, notAfter time.Time) {
	now := time.Now()
	return now.Add(-time.Hour), now.Add(24 * time.Hour)
}

// serial is a random 128-bit serial number.
func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

// NewCA makes a CA named name.
func NewCA(name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	from, to := validity()
	tmpl := &x509.Certificate{SerialNumber: sn, Subject: pkix.Name{CommonName: name}, NotBefore: from, NotAfter: to,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("ca certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key, PEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// Issue signs a certificate for l with a fresh key and returns both in PEM.
func (ca *CA) Issue(l Leaf) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	sn, err := serial()
	if err != nil {
		return nil, nil, err
	}
	from, to := validity()
	tmpl := &x509.Certificate{SerialNumber: sn, Subject: l.Subject, NotBefore: from, NotAfter: to,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{l.Usage}, IPAddresses: l.IPs, DNSNames: l.DNS}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate for %s: %w", l.Subject.CommonName, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), KeyPEM(key), nil
}

// KeyPEM encodes an ECDSA private key as a PEM "EC PRIVATE KEY" block.
func KeyPEM(k *ecdsa.PrivateKey) []byte {
	der, _ := x509.MarshalECPrivateKey(k) // cannot fail for a P-256 key
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
}
