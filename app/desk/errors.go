package desk

// Errors the user reads: the one place where platform and local failures
// become a code the UI branches on and a sentence (bind passes them on).

import (
	"cmp"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"sessiondesk/app/cache"
	"sessiondesk/app/domain"
	"sessiondesk/app/profile"
	"sessiondesk/app/provider"
	"sessiondesk/app/settings"
	"sessiondesk/app/syncer"
	"sessiondesk/backend/totp"
)

// The desk's own refusals (sign-in fields, what the cache does not hold, a
// selection, a reason), worded here with every other sentence a person
// reads from the Go side; the files that refuse name them.
const (
	msgChooseProvider    = "Choose the Sessions Desk platform or Ory Kratos."
	msgEnterServer       = "Enter the platform's address."
	msgEnterKratosServer = "Enter the Kratos admin API's address."
	msgEnterOrg          = "Enter your organization."
	msgEnterEmail        = "Enter your e-mail address."
	msgEnterKratosEmail  = "Enter your e-mail address: it names you in this workstation's log of actions."
	msgEnterPassword     = "Enter your password."
	msgServerShape       = "The server address must look like https://host:port."
	msgCAFileUnusable    = "The CA file cannot be used."
	msgNoKeychain        = "No keychain: the cache is kept in memory for this run only."
	msgNoSuchAccount     = "No such remembered account."
	msgPersonNotCached   = "This person is not in the cached data."
	msgSessionNotCached  = "This session is not in the cached data."
	msgEventNotCached    = "This audit event is not in the cached data."
	msgSelectionTooLarge = "The selection is too large."
	msgSelectNone        = "Select at least one session."
)

// settingsFieldMessage says the bounds of a setting Validate refused.
func settingsFieldMessage(field string) string {
	switch field {
	case "retentionDays":
		return fmt.Sprintf("Keep cached data between %d and %d days.", settings.MinRetentionDays, settings.MaxRetentionDays)
	case "syncIntervalSeconds":
		return fmt.Sprintf("Sync every %d seconds to %d minutes.", int(settings.MinSyncInterval/time.Second), int(settings.MaxSyncInterval/time.Minute))
	case "timeStyle":
		return "Show times as relative or exact."
	case "timeZone":
		return "Show times in local time or UTC."
	}
	return "This setting is out of bounds."
}

var (
	// msgReasonTooLong: the limit is the contract's (domain.MaxReasonLen).
	msgReasonTooLong = fmt.Sprintf("The reason is limited to %d characters.", domain.MaxReasonLen)
	// codeFormatMessage is what a code that is not 6 digits gets: how many
	// the platform's codes have, from the platform's own rule (totp.Digits).
	codeFormatMessage = fmt.Sprintf("The code has %d digits. Enter all %d digits from your authenticator app.", totp.Digits, totp.Digits)
)

// Error codes Desk produces itself (the platform's codes pass through).
const (
	CodeOffline    = "offline"
	CodeNoKeychain = "no_keychain"
	// CodeUntrustedCertificate: the platform's TLS certificate was refused.
	CodeUntrustedCertificate = "untrusted_certificate"
	CodeSignedOut            = domain.KindUnauthenticated
)

// Error is a failure meant for the user: a code the UI branches on, a
// message, and the sign-in form field it concerns, if any.
type Error struct {
	Code    string
	Message string
	Field   string
	Err     error
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Err }

// signInError words a failed sign-in on an identity system of kind
// (profile.Profile.Provider) for the form, on the field that fixes it. A
// Kratos admin API's check says what is wrong in the provider's words.
func signInError(err error, kind string, withTOTP bool) error {
	if domain.IsUnreachable(err) {
		msg := "The platform cannot be reached at this address."
		if kind == profile.ProviderKratos {
			msg = domainMessage(err)
		}
		return &Error{Code: CodeOffline, Field: "server", Message: msg, Err: err}
	}
	var ce *domain.CertificateError
	if errors.As(err, &ce) {
		return certificateError(err, ce, kind)
	}
	var pe *domain.Error
	if !errors.As(err, &pe) {
		return err
	}
	e := &Error{Code: pe.Kind, Message: messageOf(pe), Err: err}
	if kind == profile.ProviderKratos {
		e.Field = cmp.Or(pe.Field, "server")
		return e
	}
	switch pe.Kind {
	case domain.KindMFARequired:
		e.Field = "totp"
		if withTOTP {
			e.Message = "That code is not valid. Enter the current code from your authenticator app."
		} else {
			e.Message = "Enter the 6-digit code from your authenticator app."
		}
	case domain.KindUnauthenticated:
		e.Field = "password"
		if withTOTP {
			e.Field = "totp"
		}
		e.Message = "The organization, e-mail or password is not right."
	case domain.KindRateLimited:
		e.Message = "Too many attempts. Wait a minute and try again."
	}
	return e
}

// What each permission lets a role do, in the words of permissionError
// (the UI's role hint says the same).
var permissionNeeds = map[string]string{
	domain.PermSessionsTerminateOrg: "end several sessions at once (Terminate selected, Sign out everywhere for another person, Terminate all sessions)",
	domain.PermDevicesRevokeTrust:   "revoke a device's trust",
}

// permissionError refuses an action the signed-in role may not take,
// before the platform is asked (it refuses too; v1.2): it names what the
// permission covers and the permission itself.
func permissionError(perm string) *Error {
	return &Error{Code: domain.KindPermissionDenied, Message: fmt.Sprintf("Your role may not %s: that needs the permission %s.", permissionNeeds[perm], perm)}
}

// actionError turns an error of the identity system of kind
// (profile.Profile.Provider) into a user error.
func actionError(err error, kind string) error { return actionErrorFor(err, wholeAction, kind) }

// outcome says what became of the part of an action that failed, so the
// sentence is true: a single action changed nothing, but when a run of
// batches fails part-way, the earlier batches did end their sessions.
type outcome struct {
	so        string // after "The platform is busy": what was not done
	retry     string // "Try again" (before "in a moment", "when …")
	uncertain string // when the answer broke off
}

var (
	wholeAction = outcome{
		so:        ", so nothing was changed",
		retry:     "Try again",
		uncertain: "whether it was done is not known",
	}
	// restOfBatches is a "Terminate selected" whose earlier batches went
	// through. The UI says first how many ended and how many did not (and
	// stay selected); this is why, and what to do with "them".
	restOfBatches = outcome{
		retry:     "Try them again",
		uncertain: "some of them may have ended after all",
	}
)

// actionErrorFor words err for an action on the identity system of kind,
// naming it ("Ory Kratos cannot be reached", not "the platform").
func actionErrorFor(err error, o outcome, kind string) error {
	name, _ := systemName(kind)
	if domain.Answered(err) {
		// The platform is there: busy (503), or the link broke off after
		// it answered, when the action may well have been done.
		var pe *domain.Error
		if errors.As(err, &pe) {
			msg := fmt.Sprintf("%s is busy%s. %s in a moment.", capitalized(name), o.so, o.retry)
			if wait, ok := domain.RetryAfterOf(err); ok {
				msg = fmt.Sprintf("%s is busy%s. %s in %s.", capitalized(name), o.so, o.retry, wait.Round(time.Second))
			}
			return &Error{Code: domain.KindUnavailable, Message: msg, Err: err}
		}
		return &Error{Code: domain.KindUnavailable, Message: fmt.Sprintf("The connection to %s broke off while it answered, so %s; the next sync shows it.", name, o.uncertain), Err: err}
	}
	if domain.IsUnreachable(err) {
		return &Error{Code: CodeOffline, Message: fmt.Sprintf("%s cannot be reached%s. %s when you are back online.", capitalized(name), o.so, o.retry), Err: err}
	}
	if errors.As(err, new(*domain.Error)) {
		return UserError(err)
	}
	return fmt.Errorf("desk: %w", err)
}

// UserError is what the user is told about err (nil stays nil): Desk's
// own errors as they are; the platform unreachable or answering with an
// error code, in its words; anything else as code "internal" with its
// message, which never holds a secret (the client and the keychain wrap
// errors without credentials). Actions and sign-in say more than this (see
// actionError and signInError); this is for everything else.
func UserError(err error) *Error {
	if err == nil {
		return nil
	}
	var de *Error
	if errors.As(err, &de) {
		return de
	}
	if domain.IsUnreachable(err) {
		return &Error{Code: CodeOffline, Message: "The platform cannot be reached.", Err: err}
	}
	var ce *domain.CertificateError
	if errors.As(err, &ce) {
		return &Error{Code: CodeUntrustedCertificate, Message: certificateMessage(ce, profile.ProviderPlatformd), Err: err}
	}
	var pe *domain.Error
	if errors.As(err, &pe) {
		return &Error{Code: pe.Kind, Message: messageOf(pe), Err: err}
	}
	return &Error{Code: domain.KindInternal, Message: err.Error(), Err: err}
}

// reasons word the app's own refusals (domain.Error.Reason), with their
// Args.
var reasons = map[string]string{
	domain.ReasonAddressShape:     "The server address must look like https://host[:port].",
	domain.ReasonAddressParts:     "The server address must not hold credentials, a query or a fragment.",
	domain.ReasonAddressPlainHTTP: "The server address must start with https://: plain http:// would send your password and sign-in unencrypted. It is allowed only for a platform on this computer (localhost, 127.0.0.1, ::1).",
	domain.ReasonCAFile:           "The CA file %s %s.",
	domain.ReasonNoDeviceTrust:    "Kratos has no device trust: there is no trust to revoke.",
	domain.ReasonTooManySelected:  "At most %d sessions at a time.",
}

// messageOf is the sentence of pe: the app's own refusal worded from
// reasons, or the identity system's words.
func messageOf(pe *domain.Error) string {
	if text, ok := reasons[pe.Reason]; ok {
		return fmt.Sprintf(text, pe.Args...)
	}
	return pe.Message
}

// certificateError is a refused certificate of the identity system of
// kind, on the sign-in form's field that fixes it.
func certificateError(err error, ce *domain.CertificateError, kind string) *Error {
	field := "server"
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		field = "caFile" // what fixes it
	}
	return &Error{Code: CodeUntrustedCertificate, Field: field, Message: certificateMessage(ce, kind), Err: err}
}

// certificateMessage says what is wrong with a refused certificate of the
// identity system of kind (profile.Profile.Provider) and what to do.
func certificateMessage(ce *domain.CertificateError, kind string) string {
	whose, admin := "The platform's", "the platform's administrator"
	if kind == profile.ProviderKratos {
		whose, admin = "Ory Kratos'", "Kratos' administrator"
	}
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(ce.Err, &unknown):
		return whose + " certificate is signed by an authority this computer does not trust. If your organization uses its own certificate authority, give its CA file (PEM)."
	case errors.As(ce.Err, &host):
		return whose + " certificate was issued for another name than this address. Check the address."
	case errors.As(ce.Err, &invalid) && invalid.Reason == x509.Expired:
		return whose + " certificate has expired or is not valid yet. Check this computer's clock, or ask " + admin + "."
	default:
		return whose + " certificate is not valid. Ask " + admin + "."
	}
}

// systemName is how the sentences name the identity system of a profile
// kind (profile.Profile.Provider): its status must not say "the platform"
// of an Ory Kratos.
func systemName(kind string) (name, busy string) {
	if kind == profile.ProviderKratos {
		return "Ory Kratos", "Ory Kratos busy"
	}
	return "the platform", "Platform busy"
}

// syncWords word the sync status of a profile on an identity system of
// kind (profile.Profile.Provider): syncer.Words.
type syncWords struct{ kind string }

// SyncWords are the sync status's sentences for a profile on an identity
// system of kind (profile.Profile.Provider).
func SyncWords(kind string) syncer.Words { return syncWords{kind: kind} }

func (w syncWords) Problem(p syncer.Problem, wait time.Duration, err error) string {
	name, busy := systemName(w.kind)
	switch p {
	case syncer.Busy:
		return busy + " — retrying in " + spokenDuration(wait)
	case syncer.BusyNoWait:
		return busy + " — the next sync tries again."
	case syncer.BrokeOff:
		return "The connection to " + name + " broke off while receiving data; the sync resumes where it stopped."
	case syncer.Unreachable:
		return capitalized(name) + " cannot be reached."
	}
	return UserError(err).Message
}

func (w syncWords) Polling(note string, interval time.Duration) string {
	every := spokenDuration(interval)
	switch note {
	case provider.PollNoStream:
		return "This platform does not push changes; checking for changes every " + every + "."
	case provider.PollHeldBack:
		return "Live updates do not get through (a proxy may hold them back); checking for changes every " + every + "."
	case provider.PollKratos:
		return "Ory Kratos has no event stream: checking for new sessions every " + every + ", and reading every session every " + spokenDuration(provider.FullWalkEvery) + "."
	}
	return note
}

// spokenDuration says d in the unit a person reads: "45 s", "2 min".
func spokenDuration(d time.Duration) string {
	if d < 90*time.Second {
		return fmt.Sprintf("%d s", int(max(1, (d+time.Second/2)/time.Second)))
	}
	return fmt.Sprintf("%d min", int((d+30*time.Second)/time.Minute))
}

// capitalized is s with its first letter in upper case (ASCII).
func capitalized(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// Notices of lost cached data (AuthState.Notice).

// lostNotice is the one wording of a cache loss told to the user (the
// app's lasting notice): what was lost, why, and what happens next. Every
// cause words its notice through it, so that they all read alike.
func lostNotice(what, why string) string {
	return what + ": " + why + ". Everything is fetched again from the platform at the next sync; until then nothing is cached."
}

// damagedNotice tells what a damaged cache cost (lost), or that it could
// not be rebuilt (err).
func damagedNotice(lost *cache.Loss, err error) string {
	switch {
	case err != nil:
		return "The offline cache is damaged: " + err.Error()
	case lost.Aside == "":
		return lostNotice("The cached sessions, devices and audit log were lost", "the offline cache could not be read and was rebuilt empty")
	}
	return lostNotice("The cached sessions, devices and audit log were lost",
		fmt.Sprintf("the cache file was damaged and could not be read, so it was set aside (kept as %s) and rebuilt empty", lost.Aside))
}

// rowsLostNotice tells that the cache was deleted because its rows did
// not open (err).
func rowsLostNotice(err error) string {
	return lostNotice("The offline cache was deleted", "its rows could not be read ("+err.Error()+")")
}

// noticeCacheInMemory: the cache file could not be opened at all.
const noticeCacheInMemory = "The offline cache could not be opened; this run keeps it in memory only."

// keyLostNotice tells what was lost when the cache's key is missing from
// the keychain (n: sessions the file held, -1 when it could not be told).
func keyLostNotice(n int) string {
	what := "The offline cache"
	if n >= 0 {
		what = fmt.Sprintf("The offline cache (%d sessions)", n)
	}
	return lostNotice(what+" was deleted", "its key was missing from the keychain, so it could not be read")
}

// goneNotice tells what was lost when p's cache file is missing although
// the profile file says one was written: deleted outside the app.
func goneNotice(p profile.Profile, path string) string {
	return lostNotice(fmt.Sprintf("The offline cache of %s at %s was not found", p.Email, p.Org),
		fmt.Sprintf("its file %s was removed outside Sessions Desk", path))
}

// messageSessionEnded is the sign-in form's message after the signed-in
// session ended (elsewhere, or by this app's own action).
const messageSessionEnded = "Your session has ended. Sign in again."

// errSignInFirst refuses what needs a signed-in profile.
func errSignInFirst() *Error { return &Error{Code: CodeSignedOut, Message: "Sign in first."} }

// errRange refuses a Shift-click range outside 1…MaxRange rows.
func errRange() *Error {
	// MaxRange grouped as the UI shows counts ("10,000"; it is 1,000 or more
	// and under 1,000,000).
	return &Error{Code: domain.KindInvalid, Message: fmt.Sprintf(
		"A range selects 1 to %d,%03d sessions; use “Select all matching” for more.", MaxRange/1000, MaxRange%1000)}
}

// errFilterTooLong refuses a list filter value over maxFilterLen.
func errFilterTooLong() *Error {
	return &Error{Code: domain.KindInvalid, Message: fmt.Sprintf("a filter value is limited to %d characters", maxFilterLen)}
}
