package mllp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/mllp"
)

// selfSigned returns a certificate for 127.0.0.1, made for this test, and
// a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mllp test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	transport := mllp.HandlerFunc(func(ctx context.Context, p []byte) [][]byte {
		if peer, _ := mllp.PeerFromContext(ctx); peer.TLS != nil && peer.TLS.HandshakeComplete {
			return [][]byte{append([]byte("TLS:"), p...)}
		}
		return [][]byte{append([]byte("PLAIN:"), p...)}
	})
	ts := start(t, &mllp.Server{
		Handler:     transport,
		TLSConfig:   &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadTimeout: guard,
	})
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()

	t.Run("TLS client", func(t *testing.T) {
		c, err := mllp.Dial(ctx, ts.addr, &tls.Config{RootCAs: pool})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for _, p := range []string{"MSH|one", "MSH|two"} {
			if got := send(t, c, p); got != "TLS:"+p {
				t.Errorf("got %q, want %q", got, "TLS:"+p)
			}
		}
	})
	t.Run("plain TCP client refused", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		writeAll(t, c, frame("MSH|plain"))
		if got := readUntilClosed(t, c); len(got) != 0 {
			t.Errorf("plain client got %q, want nothing", got)
		}
		if got := ts.counter(t, "codebridge_mllp_connections_rejected_total", "tls_handshake"); got != 1 {
			t.Errorf("TLS handshake rejections = %v, want 1", got)
		}
	})
	t.Run("client not trusting the certificate", func(t *testing.T) {
		c, err := mllp.Dial(ctx, ts.addr, &tls.Config{RootCAs: x509.NewCertPool()})
		if err == nil {
			c.Close()
			t.Fatal("Dial succeeded against an untrusted certificate")
		}
	})
}
