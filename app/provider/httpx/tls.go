package httpx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"

	"sessiondesk/app/domain"
)

// MaxCAFileBytes bounds a CA file: a bundle of a few hundred certificates.
const MaxCAFileBytes = 1 << 20

// trustCAFile returns base (an *http.Transport) cloned to trust the
// system's certificate authorities plus those in the PEM file caFile: an
// organization's internal CA that signed its platform's certificate. The
// system's store stays trusted, so a platform with a public certificate
// works with or without the file.
func trustCAFile(base http.RoundTripper, caFile string) (http.RoundTripper, error) {
	t, ok := base.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("platform: a CA file needs an *http.Transport, not %T", base)
	}
	fail := func(why string) error {
		return &domain.Error{Kind: domain.KindInvalid, Message: fmt.Sprintf("The CA file %s %s.", caFile, why)}
	}
	st, err := os.Stat(caFile)
	if err != nil {
		return nil, fail("cannot be read")
	}
	if st.Size() > MaxCAFileBytes {
		return nil, fail("is too large to be a CA certificate file")
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fail("cannot be read")
	}
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool() // no system store (some minimal systems): the file alone
	}
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fail("holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	t = t.Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return t, nil
}

// certificateError returns a *CertificateError when err is a certificate
// verification failure, else nil.
func certificateError(err error) error {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	if errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid) {
		return &domain.CertificateError{Err: err}
	}
	return nil
}
