package domain_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"sessiondesk/app/domain"
)

// The app reacts to a provider's errors after the layers between have
// wrapped them (the syncer's "sync sessions: %w", desk's): each helper
// still tells what it is about.
func TestErrorHelpersSeeThroughWrapping(t *testing.T) {
	busy := fmt.Errorf("sync sessions: %w", &domain.Error{Kind: domain.KindRateLimited, Status: 429, RetryAfter: 3 * time.Second})
	if domain.KindOf(busy) != domain.KindRateLimited {
		t.Errorf("KindOf = %q", domain.KindOf(busy))
	}
	if d, ok := domain.RetryAfterOf(busy); !ok || d != 3*time.Second {
		t.Errorf("RetryAfterOf = %v %v", d, ok)
	}
	if domain.IsUnreachable(busy) || domain.Answered(busy) || domain.IsUnauthenticated(busy) {
		t.Error("a busy answer read as offline or signed out")
	}

	broke := fmt.Errorf("desk: %w", &domain.UnreachableError{Err: errors.New("reset"), Answered: true})
	if !domain.IsUnreachable(broke) || !domain.Answered(broke) || domain.KindOf(broke) != "" {
		t.Errorf("an answer that broke off: unreachable %v, answered %v, kind %q", domain.IsUnreachable(broke), domain.Answered(broke), domain.KindOf(broke))
	}
	gone := fmt.Errorf("x: %w", &domain.Error{Kind: domain.KindUnauthenticated, Status: 401})
	if !domain.IsUnauthenticated(gone) {
		t.Error("a rejected credential not told")
	}
	if !domain.IsCertificate(fmt.Errorf("y: %w", &domain.CertificateError{Err: errors.New("x509")})) {
		t.Error("a refused certificate not told")
	}
}
