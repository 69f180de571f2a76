package httpx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"syscall"

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
		return &domain.Error{Kind: domain.KindInvalid, Reason: domain.ReasonCAFile, Args: []any{caFile, why}}
	}
	pem, why := readCAFile(caFile)
	if why != "" {
		return nil, fail(why)
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

// readCAFile reads the CA file, at most MaxCAFileBytes of it, or says why
// not. A path names anything: a FIFO blocks a read until someone writes
// (forever), and a device such as /dev/zero says size 0 and never ends.
// So the file is opened first and the opened file is checked (fstat), which
// a path swapped after the check cannot fool; O_NONBLOCK keeps the open of
// a FIFO without a writer from blocking (it changes nothing for a regular
// file, and Windows ignores it). The read is bounded whatever the size said,
// since a file can grow after the check.
func readCAFile(path string) (pem []byte, why string) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, "cannot be read"
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "cannot be read"
	}
	if !st.Mode().IsRegular() {
		return nil, "is not a regular file"
	}
	tooLarge := "is too large to be a CA certificate file"
	if st.Size() > MaxCAFileBytes {
		return nil, tooLarge
	}
	pem, err = io.ReadAll(io.LimitReader(f, MaxCAFileBytes+1))
	if err != nil {
		return nil, "cannot be read"
	}
	if len(pem) > MaxCAFileBytes {
		return nil, tooLarge
	}
	return pem, ""
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
