package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
)

// certReloader serves the certificate pair named on the command line and
// swaps it atomically when asked (on SIGHUP). tls.Config.GetCertificate
// reads it at every handshake, so a new connection gets the new pair while
// established ones keep the one they negotiated: nothing is dropped.
type certReloader struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// reload reads the pair again. On failure (a half-written file, a key that
// does not match) the pair in use stays, so a mistake during renewal does not
// take the service down.
func (r *certReloader) reload() error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls: load %s and %s: %w", r.certFile, r.keyFile, err)
	}
	r.cert.Store(&c)
	return nil
}

func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return r.cert.Load(), nil
}

// tlsConfig is the server side of HTTPS: TLS 1.2 at least, Go's default
// cipher suites (all forward-secret AEADs for 1.2), HTTP/2 offered.
func (r *certReloader) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.getCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}

// reloadOnHUP reloads the pair on every signal from hup until done closes.
// A nil reloader (plain HTTP) has nothing to reload and says so.
func (r *certReloader) reloadOnHUP(hup <-chan os.Signal, done <-chan struct{}, log *slog.Logger) {
	for {
		select {
		case <-done:
			return
		case <-hup:
			if r == nil {
				log.Info("SIGHUP ignored: there is no TLS certificate to reload")
				continue
			}
			if err := r.reload(); err != nil {
				log.Error("TLS certificate reload failed; keeping the current one", "err", err)
				continue
			}
			attrs := []any{"cert", r.certFile}
			if leaf := r.cert.Load().Leaf; leaf != nil {
				attrs = append(attrs, "subject", leaf.Subject.String(), "not_after", leaf.NotAfter)
			}
			log.Info("TLS certificate reloaded", attrs...)
		}
	}
}
