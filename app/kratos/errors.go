package kratos

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"sessiondesk/app/domain"
)

// Kind sorts the failures of a call by what the person at the app can do
// about them.
type Kind int

const (
	KindServer       Kind = iota // Kratos failed or answered something unexpected
	KindUnreachable              // no answer, or 502/503/504 after the retries: offline
	KindCertificate              // the TLS certificate was refused: a trust to fix
	KindUnauthorized             // 401 from a proxy in front of Kratos: the API key
	KindForbidden                // 403 from a proxy in front of Kratos
	KindNotFound                 // 404: no such session, or no admin API at that address
	KindInvalid                  // the request is wrong (a bad ID, URL or page token)
)

// Error is a failed call, with one sentence for a person (Message) that
// never holds the API key. Err is the underlying error when there is one
// (*domain.UnreachableError, *domain.CertificateError, …).
type Error struct {
	Kind    Kind
	Status  int // the HTTP status; 0 when Kratos did not answer
	Message string
	Err     error
}

func (e *Error) Error() string { return "kratos: " + e.Message }
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of a failed call; KindServer for an error that
// is not an *Error (for example a cancelled context).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindServer
}

// transportError words a call that got no answer.
func (c *Client) transportError(err error) error {
	var ce *domain.CertificateError
	switch {
	case errors.As(err, &ce):
		return &Error{Kind: KindCertificate, Err: err, Message: fmt.Sprintf("The TLS certificate of the Kratos admin API at %s was refused (%v). If your organization uses its own certificate authority, give its CA file (PEM).", c.base.Host, ce.Err)}
	case domain.IsUnreachable(err):
		var ue *domain.UnreachableError
		errors.As(err, &ue)
		return &Error{Kind: KindUnreachable, Err: err, Message: fmt.Sprintf("The Kratos admin API at %s cannot be reached: %v.", c.base.Host, ue.Err)}
	}
	return err // the caller's context ended: not Kratos' doing
}

// kratosError is Kratos' error body (spec/api.json "errorGeneric").
type kratosError struct {
	Error struct {
		Message string `json:"message"`
		Reason  string `json:"reason"`
	} `json:"error"`
}

// statusError words an answer with a status of 300 or more.
func (c *Client) statusError(resp *http.Response, notFound func(*Client) string) error {
	var body kratosError
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	_ = json.Unmarshal(data, &body)
	said := body.Error.Reason
	if said == "" {
		said = body.Error.Message
	}
	if said == "" {
		said = http.StatusText(resp.StatusCode)
	}
	said = truncate(said, 300)
	host := c.base.Host
	e := &Error{Status: resp.StatusCode}
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		e.Kind = KindUnauthorized
		if c.apiKey == "" {
			e.Message = fmt.Sprintf("The Kratos admin API at %s asks for credentials (401). Kratos checks none itself, so a proxy in front of it does: give its API key.", host)
		} else {
			e.Message = fmt.Sprintf("The Kratos admin API at %s refused the API key (401). Kratos checks none itself, so a proxy in front of it does: check the key.", host)
		}
	case http.StatusForbidden:
		e.Kind = KindForbidden
		e.Message = fmt.Sprintf("The Kratos admin API at %s refused access (403 Forbidden): a proxy in front of Kratos does not let this API key use the admin API.", host)
	case http.StatusNotFound:
		e.Kind = KindNotFound
		if notFound != nil {
			e.Message = notFound(c)
		} else {
			e.Message = fmt.Sprintf("The Kratos admin API at %s found nothing there (404): %s.", host, said)
		}
	case http.StatusBadRequest:
		e.Kind = KindInvalid
		e.Message = fmt.Sprintf("The Kratos admin API at %s refused the request (400): %s.", host, said)
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		e.Kind = KindUnreachable
		e.Message = fmt.Sprintf("The Kratos admin API at %s is unavailable (%d %s).", host, resp.StatusCode, http.StatusText(resp.StatusCode))
	default:
		e.Kind = KindServer
		e.Message = fmt.Sprintf("The Kratos admin API at %s failed (%d): %s.", host, resp.StatusCode, said)
	}
	return e
}

// notFoundAPI words a 404 of a route every Kratos admin API has: the
// address is not one.
func notFoundAPI(c *Client) string {
	return fmt.Sprintf("There is no Kratos admin API at %s (404 for /admin/sessions). Check that this is Kratos' admin address (port 4434 by default), not its public one.", c.base.String())
}

// notFoundSession words a 404 of a session's route.
func notFoundSession(id string) func(*Client) string {
	return func(*Client) string {
		return fmt.Sprintf("Kratos has no session %s: it never existed, or it was deleted when its person was signed out everywhere.", id)
	}
}
