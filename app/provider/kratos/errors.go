package kratos

import (
	"errors"

	"sessiondesk/app/domain"
	admin "sessiondesk/app/kratos"
)

// domainError turns the admin client's errors into the app's kinds.
func domainError(err error) error {
	var ke *admin.Error
	if !errors.As(err, &ke) {
		return err
	}
	switch ke.Kind {
	case admin.KindUnreachable:
		var ue *domain.UnreachableError
		if errors.As(err, &ue) {
			return &domain.UnreachableError{Err: errors.New(ke.Message), Answered: ue.Answered}
		}
		return &domain.UnreachableError{Err: errors.New(ke.Message), Answered: true}
	case admin.KindCertificate:
		var ce *domain.CertificateError
		if errors.As(err, &ce) {
			return ce
		}
	}
	kind := map[admin.Kind]string{
		admin.KindUnauthorized: domain.KindUnauthenticated,
		admin.KindForbidden:    domain.KindPermissionDenied,
		admin.KindNotFound:     domain.KindNotFound,
		admin.KindInvalid:      domain.KindInvalid,
	}[ke.Kind]
	if kind == "" {
		kind = domain.KindInternal
	}
	return &domain.Error{Kind: kind, Message: ke.Message, Status: ke.Status}
}

// signInError is domainError with the form field it concerns.
func signInError(err error) error {
	err = domainError(err)
	var de *domain.Error
	if errors.As(err, &de) {
		switch de.Kind {
		case domain.KindUnauthenticated, domain.KindPermissionDenied:
			de.Field = "apiKey"
		default:
			de.Field = "server"
		}
	}
	return err
}
