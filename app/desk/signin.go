package desk

// Sign-in: the form's checks, the platform's MFA answer turned into field
// errors (signInError), resuming a remembered profile with its stored token,
// and the demo platform's address. What is kept in the keychain afterwards
// is credentials.go's business; opening the workspace is workspace.go's.

import (
	"context"
	"errors"
	"strings"

	"sessiondesk/app/domain"
	"sessiondesk/app/keychain"
	"sessiondesk/app/profile"
	"sessiondesk/app/provider"
	"sessiondesk/app/provider/httpx"
	"sessiondesk/app/provider/kratos"
	"sessiondesk/app/provider/platformd"
	"sessiondesk/backend/totp"
)

// SetDemoServer tells Desk the embedded platform's current address. Demo
// profiles follow it (its port may change between runs); without it they are
// not resumed.
func (d *Desk) SetDemoServer(url string) {
	d.mu.Lock()
	d.demoURL = strings.TrimRight(url, "/")
	d.mu.Unlock()
}

// Resume signs the last used profile back in with its stored token (see
// startProfile for which one that is).
func (d *Desk) Resume(ctx context.Context) error {
	p, ok, err := d.startProfile()
	if err != nil || !ok {
		return err
	}
	_, err = d.ResumeProfile(ctx, p)
	return err
}

// startProfile is the remembered account a start resumes. Started for a
// platform (-server), the user expects that platform, not whichever account
// they used last: an account elsewhere is neither resumed nor filled into
// the sign-in form (SignIn.svelte picks by the same rule), which then
// offers -server's address with the other fields empty. An account on that
// platform is used as it would be without -server: the last used first.
func (d *Desk) startProfile() (profile.Profile, bool, error) {
	if d.cfg.Server == "" {
		return d.profiles.Last()
	}
	ps, err := d.profiles.List() // the last used first
	if err != nil {
		return profile.Profile{}, false, err
	}
	for _, p := range ps {
		if !p.Demo && p.ServerURL == d.cfg.Server {
			return p, true, nil
		}
	}
	return profile.Profile{}, false, nil
}

// DemoProfile is the profile of the demo account on the embedded platform.
func (d *Desk) DemoProfile(org, email string) profile.Profile {
	d.mu.Lock()
	defer d.mu.Unlock()
	return profile.New(d.demoURL, org, email, true)
}

// ResumeProfile opens p with its stored token, if there is one. It reports
// whether p is signed in afterwards. A token the platform rejects is
// deleted. It is offline first: p's cache is opened and starts loading
// before the platform is asked who the token is, once; a platform that
// does not answer leaves p open offline from the cache.
func (d *Desk) ResumeProfile(ctx context.Context, p profile.Profile) (bool, error) {
	if p.Demo {
		d.mu.Lock()
		p.ServerURL = d.demoURL
		d.mu.Unlock()
		if p.ServerURL == "" {
			return false, nil
		}
	}
	if d.SignedInAs(p.ID) {
		return true, nil
	}
	kc := d.keychain()
	token, err := kc.Token(p.ID)
	if errors.Is(err, keychain.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	cn, err := d.connector(p)
	if err != nil {
		return false, err
	}
	prov := cn.WithToken(token)
	opened := false
	defer func() {
		if !opened {
			prov.Close()
		}
	}()
	if d.shared() {
		// A session kept past its run can only be one a crash or a kill
		// left: on a shared workstation the next person to start the app
		// must not find it open. It is ended and the copy forgotten.
		d.endLeftSession(ctx, prov, p.ID)
		return false, nil
	}
	// Offline first: the cache is opened and its rows start loading before
	// the platform is asked, and the platform is asked once. Retrying a
	// refused port (httpx's policy) took ~3.3 s with the window empty; the
	// sync's own reconnecting takes over from here.
	w, err := d.prepare(ctx, p, prov)
	if err != nil {
		return false, err
	}
	me, err := prov.Me(httpx.Once(ctx))
	if domain.Answered(err) {
		// There, but busy or its answer broke off: ask with the usual
		// retries, as before. Only a platform that does not answer at all
		// opens offline at once.
		me, err = prov.Me(ctx)
	}
	switch {
	case err == nil:
		d.setMe(ctx, w, me)
		d.start(w, false)
		opened = true
		if err := d.profiles.Save(p); err != nil { // the demo's address may have changed
			d.cfg.Log.Warn("profile not saved", "err", err)
		}
		return true, nil
	case domain.IsUnreachable(err):
		// Review offline from the cache, as the cache knows who is signed
		// in; the sync reconnects by itself, and once it succeeds the
		// listener asks /me again (meStale).
		d.cfg.Log.Info("platform unreachable; opening offline from the cache", "err", err)
		d.start(w, true)
		opened = true
		return true, nil
	}
	d.discard(w)
	if domain.IsUnauthenticated(err) {
		_ = kc.DeleteToken(p.ID)
		d.setMessage(messageSessionEnded)
		return false, nil
	}
	return false, err
}

// endLeftSession signs out, at the platform and here, a session that an
// earlier run on this shared workstation left open, and forgets the copy.
func (d *Desk) endLeftSession(ctx context.Context, prov provider.Provider, id string) {
	if err := prov.SignOut(ctx); err != nil && !domain.IsUnauthenticated(err) {
		d.cfg.Log.Info("platform logout of a session left open failed; forgetting it here anyway", "err", err)
	}
	if err := d.forgetCopy(id); err != nil {
		d.cfg.Log.Warn("copy of a session left open not forgotten", "err", err)
	}
	if err := d.profiles.ForgetIdentity(id); err != nil {
		d.cfg.Log.Warn("identity not forgotten", "err", err)
	}
	d.cfg.Log.Info("shared workstation: a session left open by an earlier run was ended", "profile", id)
}

// SignInRequest is what the sign-in form submits.
type SignInRequest struct {
	ServerURL   string
	Org         string
	Email       string
	Password    string
	TOTP        string
	TrustDevice bool
	Demo        bool
	// CAFile is the PEM file of an organization's own certificate
	// authority, trusted besides the system's ("" for Config.Client's).
	CAFile string
	// Provider is the identity system's kind (profile.ProviderKratos, or
	// "" for the Sessions Desk platform). For Kratos, ServerURL is its
	// admin API, Email names the staff member in the workstation's audit
	// log, APIKey is the optional key of a proxy in front of the admin API
	// (kept in the keychain, never on disk), and Org, Password and TOTP are
	// not used.
	Provider string
	APIKey   string
}

// connector is the identity system of profile p, by its kind.
func (d *Desk) connector(p profile.Profile) (provider.Connector, error) {
	if p.Provider == profile.ProviderKratos {
		return kratos.Dial(p.ServerURL, kratos.Options{HTTP: d.clientOptions(p.CAFile), Staff: kratos.Staff{Email: p.Email}, Log: d.cfg.Log})
	}
	return platformd.Dial(p.ServerURL, d.clientOptions(p.CAFile))
}

// wellFormedCode reports whether code can be a code at all: totp.Digits
// ASCII digits.
func wellFormedCode(code string) bool {
	if len(code) != totp.Digits {
		return false
	}
	for _, c := range []byte(code) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// clientOptions are the platform client's options for a profile's CA file.
func (d *Desk) clientOptions(caFile string) httpx.Options {
	opts := d.cfg.Client
	if caFile = strings.TrimSpace(caFile); caFile != "" {
		opts.CAFile = caFile
	}
	return opts
}

// SignIn signs in through the platform, stores the token and device id in the
// keychain, saves the profile and opens its workspace.
func (d *Desk) SignIn(ctx context.Context, req SignInRequest) (AuthState, error) {
	req.Org, req.Email, req.TOTP = strings.TrimSpace(req.Org), strings.TrimSpace(req.Email), strings.TrimSpace(req.TOTP)
	switch req.Provider {
	case profile.ProviderKratos:
		return d.signInKratos(ctx, req)
	case profile.ProviderPlatformd:
	default:
		return d.State(), &Error{Code: domain.KindInvalid, Field: "provider", Message: msgChooseProvider}
	}
	switch {
	case strings.TrimSpace(req.ServerURL) == "":
		return d.State(), &Error{Code: domain.KindInvalid, Field: "server", Message: msgEnterServer}
	case req.Org == "":
		return d.State(), &Error{Code: domain.KindInvalid, Field: "org", Message: msgEnterOrg}
	case req.Email == "":
		return d.State(), &Error{Code: domain.KindInvalid, Field: "email", Message: msgEnterEmail}
	case req.Password == "":
		return d.State(), &Error{Code: domain.KindInvalid, Field: "password", Message: msgEnterPassword}
	case req.TOTP != "" && !wellFormedCode(req.TOTP):
		// Told here, not by the platform: it would answer "not valid" (and
		// count a failed attempt) for what is only a mistyped length.
		return d.State(), &Error{Code: domain.KindInvalid, Field: "totp", Message: codeFormatMessage}
	}
	opts := d.clientOptions(req.CAFile)
	if _, err := httpx.ParseServerURL(req.ServerURL); err != nil {
		msg := msgServerShape
		var pe *domain.Error
		if errors.As(err, &pe) && messageOf(pe) != "" {
			msg = messageOf(pe) // e.g. why plain http is refused
		}
		return d.State(), &Error{Code: domain.KindInvalid, Field: "server", Message: msg, Err: err}
	}
	cn, err := platformd.Dial(req.ServerURL, opts)
	if err != nil { // the address is fine, so it is the CA file
		msg := msgCAFileUnusable
		var pe *domain.Error
		if errors.As(err, &pe) && messageOf(pe) != "" {
			msg = messageOf(pe)
		}
		return d.State(), &Error{Code: domain.KindInvalid, Field: "caFile", Message: msg, Err: err}
	}
	opened := false
	defer func() {
		if !opened { // a failed sign-in leaves no connections behind
			cn.Close()
		}
	}()
	d.mu.Lock()
	demo := req.Demo || (d.demoURL != "" && cn.BaseURL() == d.demoURL)
	d.mu.Unlock()
	p := profile.New(cn.BaseURL(), req.Org, req.Email, demo)
	p.CAFile = opts.CAFile
	kc := d.keychain()
	deviceID, deviceSecret := d.deviceCredentials(kc, p.ID)
	resp, err := cn.SignIn(ctx, provider.SignInRequest{
		Org: req.Org, Email: req.Email, Password: req.Password,
		Device:      provider.ThisDevice{ID: deviceID, Name: d.cfg.DeviceName, Platform: d.cfg.DevicePlatform, Secret: deviceSecret},
		TOTP:        req.TOTP,
		TrustDevice: req.TrustDevice && req.TOTP != "" && !d.shared(), // see credentials.go
	})
	if err != nil {
		if deviceSecret != "" && domain.KindOf(err) == domain.KindMFARequired {
			// The platform no longer trusts this computer (revoked, or the
			// user's second factor was reset): the secret is worthless.
			d.forgetDeviceSecret(kc, p.ID)
		}
		return d.State(), signInError(err, profile.ProviderPlatformd, req.TOTP != "")
	}
	d.keepDevice(kc, p.ID, deviceID, resp)
	if err := d.openSignedIn(ctx, cn, p, resp.Token); err != nil {
		return d.State(), err
	}
	opened = true
	return d.State(), nil
}

// openSignedIn keeps a sign-in's credential in the keychain, saves its
// profile and opens the workspace over cn.
func (d *Desk) openSignedIn(ctx context.Context, cn provider.Connector, p profile.Profile, token string) error {
	if err := d.keychain().SetToken(p.ID, token); err != nil {
		return &Error{Code: domain.KindInternal, Message: "The keychain refused to store your sign-in: " + err.Error(), Err: err}
	}
	if err := d.profiles.Save(p); err != nil {
		return err
	}
	authed := cn.WithToken(token)
	me, err := authed.Me(ctx)
	if err != nil {
		authed.Close()
		return actionError(err, p.Provider)
	}
	d.setMessage("")
	if err := d.open(ctx, p, authed, &me, false); err != nil {
		return err
	}
	d.emitAuth()
	return nil
}

// signInKratos checks that the admin API at req.ServerURL answers (with the
// API key, when given) and opens its profile. There is nobody to sign in
// on Kratos: its admin API lets in whoever reaches it, and the e-mail only
// names who acts in the workstation's audit log.
func (d *Desk) signInKratos(ctx context.Context, req SignInRequest) (AuthState, error) {
	switch {
	case strings.TrimSpace(req.ServerURL) == "":
		return d.State(), &Error{Code: domain.KindInvalid, Field: "server", Message: msgEnterKratosServer}
	case req.Email == "":
		return d.State(), &Error{Code: domain.KindInvalid, Field: "email", Message: msgEnterKratosEmail}
	}
	p := profile.NewKratos(req.ServerURL, req.Email)
	p.CAFile = d.clientOptions(req.CAFile).CAFile
	cn, err := d.connector(p)
	if err != nil {
		var pe *domain.Error
		if errors.As(err, &pe) && pe.Reason == domain.ReasonCAFile {
			return d.State(), &Error{Code: domain.KindInvalid, Field: "caFile", Message: messageOf(pe), Err: err}
		}
		return d.State(), &Error{Code: domain.KindInvalid, Field: "server", Message: domainMessage(err), Err: err}
	}
	opened := false
	defer func() {
		if !opened {
			cn.Close()
		}
	}()
	p.ServerURL = cn.BaseURL()
	resp, err := cn.SignIn(ctx, provider.SignInRequest{Email: req.Email, Password: strings.TrimSpace(req.APIKey)})
	if err != nil {
		return d.State(), signInError(err, profile.ProviderKratos, false)
	}
	if err := d.openSignedIn(ctx, cn, p, resp.Token); err != nil {
		return d.State(), err
	}
	opened = true
	return d.State(), nil
}

// domainMessage is the sentence a domain error carries.
func domainMessage(err error) string {
	var pe *domain.Error
	if errors.As(err, &pe) && messageOf(pe) != "" {
		return messageOf(pe)
	}
	var ue *domain.UnreachableError
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
