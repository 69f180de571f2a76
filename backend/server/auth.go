package server

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
	"sessiondesk/backend/totp"
	"sessiondesk/backend/useragent"
)

// Field limits of the login body.
const (
	maxEmailLen    = 320
	maxPasswordLen = 1024
	maxNameLen     = 200 // of the organization slug
)

// NewToken returns a fresh session token (32 random bytes, base64url) and the
// SHA-256 the store keeps instead of it.
func NewToken() (token string, hash []byte, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("random token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token), nil
}

// HashToken is the store's key for a token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// authenticate resolves the Bearer token to a live session.
func (s *Server) authenticate(r *http.Request) (*caller, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, errorf(api.CodeUnauthenticated, "sign in first: send Authorization: Bearer <token>")
	}
	if len(token) > 256 {
		return nil, errorf(api.CodeUnauthenticated, "the token is not valid")
	}
	hash := HashToken(token)
	p, err := s.store.Authenticate(r.Context(), hash)
	if store.IsNotFound(err) {
		return nil, errorf(api.CodeUnauthenticated, "the token is not valid")
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	now := s.clock()
	switch p.Session.Status(now) {
	case store.StatusTerminated:
		return nil, errorf(api.CodeUnauthenticated, "the session has been ended; sign in again")
	case store.StatusExpired:
		return nil, errorf(api.CodeUnauthenticated, "the session has expired; sign in again")
	}
	if now.Sub(p.Session.LastActiveAt) >= TouchInterval {
		// A failed touch costs only freshness of last_active_at; the
		// request itself is fine.
		if err := s.store.TouchSession(r.Context(), p.Session.ID, s.idle, TouchInterval); err != nil {
			s.log.Warn("recording session use failed", "session_id", p.Session.ID, "err", err)
		} else {
			s.notifier.Notify(r.Context(), p.Org.ID)
		}
	}
	return &caller{Principal: p, perms: PermissionsOf(p.User.Role), tokenHash: hash}, nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, _ *caller) error {
	var req api.LoginRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	if err := validateLogin(&req); err != nil {
		return err
	}
	ctx := r.Context()
	ip := s.clientIP(r)
	accountKey := strings.ToLower(req.Org) + "\x00" + strings.ToLower(strings.TrimSpace(req.Email))
	// Reserve this attempt against the account's and the IP's limits before
	// any credential is checked; it is given back unless the attempt fails.
	att, wait, ok, err := s.throttle.begin(ctx, accountKey, ip)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if !ok {
		return &Error{Code: api.CodeRateLimited, Message: "too many failed sign-ins; try again later", RetryAfter: wait}
	}
	result := attemptVoid
	defer func() { s.throttle.end(ctx, att, result) }()
	cr, result, err := s.checkCredentials(r, &req)
	if err != nil {
		return err
	}
	if err := s.startSession(w, r, &req, cr, ip); err != nil {
		return err
	}
	result = attemptSucceeded
	return nil
}

// credentials is what checkCredentials established about a sign-in.
type credentials struct {
	user   store.User
	device store.Device // the known device it comes from; zero when new
	mfa    bool         // the second factor was passed
	trust  bool         // the device becomes trusted
}

// checkCredentials checks the password and, when the user has one, the
// second factor. On an error the outcome says whether the attempt counts
// as failed against the throttle.
func (s *Server) checkCredentials(r *http.Request, req *api.LoginRequest) (credentials, outcome, error) {
	ctx := r.Context()
	user, err := s.findUser(r, req.Org, req.Email)
	if err != nil {
		return credentials{}, attemptVoid, err
	}
	hash := user.PasswordHash
	if user.ID == "" {
		hash = s.dummyHash
	}
	if !store.PasswordMatches(hash, req.Password) || user.ID == "" {
		return credentials{}, attemptFailed, errorf(api.CodeUnauthenticated, "wrong organization, e-mail or password")
	}
	cr := credentials{user: user}
	if req.Device.ID != "" {
		cr.device, err = s.store.DeviceOfUser(ctx, user.ID, req.Device.ID)
		if err != nil && !store.IsNotFound(err) {
			return credentials{}, attemptVoid, fmt.Errorf("login: %w", err)
		}
		// Unknown, or another user's: this sign-in gets a new device.
	}
	if !user.HasTOTP() || s.deviceSkipsTOTP(cr.device, req.Device.Secret) {
		return cr, attemptVoid, nil
	}
	if req.TOTP == "" {
		return credentials{}, attemptVoid, errorf(api.CodeMFARequired, "enter the code from your authenticator app")
	}
	step, ok := totp.Verify(user.TOTPSecret, req.TOTP, s.clock())
	if ok {
		if ok, err = s.store.UseTOTPStep(ctx, user.ID, step); err != nil {
			return credentials{}, attemptVoid, fmt.Errorf("login: %w", err)
		}
	}
	if !ok {
		return credentials{}, attemptFailed, errorf(api.CodeMFARequired, "the code is not valid; enter the current code from your authenticator app")
	}
	cr.mfa = true
	// A device is trusted only right after its user passed the second
	// factor on it. Users without TOTP have no second factor, so for them
	// trust_device is ignored.
	cr.trust = req.TrustDevice
	return cr, attemptVoid, nil
}

// startSession signs the checked user in and answers with the new
// session's token (and a trusted device's secret).
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, req *api.LoginRequest, cr credentials, ip string) error {
	ctx := r.Context()
	token, tokenHash, err := NewToken()
	if err != nil {
		return err
	}
	// Trusting a device issues its secret: shown once in the answer, only
	// its SHA-256 stored. Never logged or audited.
	var deviceSecret string
	var deviceSecretHash []byte
	if cr.trust {
		if deviceSecret, deviceSecretHash, err = NewToken(); err != nil {
			return err
		}
	}
	ua := cutUserAgent(r.UserAgent())
	info := useragent.Parse(ua)
	in := store.SignIn{
		UserID:          cr.user.ID,
		TokenHash:       tokenHash,
		DeviceID:        cr.device.ID,
		DeviceName:      cmp.Or(req.Device.Name, info.DeviceName()),
		DevicePlatform:  cmp.Or(req.Device.Platform, info.OS),
		TrustDevice:     cr.trust,
		TrustSecretHash: deviceSecretHash,
		IP:              ip,
		UserAgent:       ua,
		Client:          info.Label(),
		MFA:             cr.mfa,
		Idle:            s.idle,
		Absolute:        s.absolute,
		MaxSessions:     s.maxActive,
		LimitReason:     api.SessionLimitReason,
	}
	sess, dev, err := s.store.SignIn(ctx, in)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	s.notifier.Notify(context.WithoutCancel(ctx), cr.user.OrgID)
	s.log.Info("signed in", "org", req.Org, "user_id", cr.user.ID, "session_id", sess.ID, "device_id", dev.ID, "mfa", cr.mfa)
	writeJSON(w, http.StatusOK, api.LoginResponse{
		Token:        token,
		Session:      toSession(sess, s.clock(), sess.ID),
		User:         toUser(sess.User),
		Device:       toDevice(dev),
		DeviceSecret: deviceSecret,
	})
	return nil
}

// deviceSkipsTOTP reports whether the sign-in presents a trusted device of
// the user together with that device's secret. The device ID alone is not
// enough: every viewer sees device IDs. The comparison of the hashes is
// constant-time; a device trusted without a stored secret (before secrets
// existed) never skips.
func (s *Server) deviceSkipsTOTP(device store.Device, secret string) bool {
	if !device.Trusted() || len(device.TrustSecretHash) != sha256.Size || secret == "" {
		return false
	}
	return subtle.ConstantTimeCompare(HashToken(secret), device.TrustSecretHash) == 1
}

// findUser returns the user, or a zero User when the organization or e-mail
// is unknown (the caller then spends a bcrypt on the dummy hash).
func (s *Server) findUser(r *http.Request, orgSlug, email string) (store.User, error) {
	org, err := s.store.OrgBySlug(r.Context(), orgSlug)
	if store.IsNotFound(err) {
		return store.User{}, nil
	}
	if err != nil {
		return store.User{}, fmt.Errorf("login: %w", err)
	}
	u, err := s.store.UserByEmail(r.Context(), org.ID, email)
	if store.IsNotFound(err) {
		return store.User{}, nil
	}
	if err != nil {
		return store.User{}, fmt.Errorf("login: %w", err)
	}
	return u, nil
}

func validateLogin(req *api.LoginRequest) error {
	if req.Org == "" || req.Email == "" || req.Password == "" {
		return errorf(api.CodeInvalidArgument, "org, email and password are required")
	}
	if len(req.Org) > maxNameLen || len(req.Email) > maxEmailLen || len(req.Password) > maxPasswordLen {
		return errorf(api.CodeInvalidArgument, "org, email or password is too long")
	}
	if utf8.RuneCountInString(req.Device.Name) > api.MaxDeviceNameLen {
		return errorf(api.CodeInvalidArgument, "device name is limited to %d characters", api.MaxDeviceNameLen)
	}
	if utf8.RuneCountInString(req.Device.Platform) > api.MaxDevicePlatformLen {
		return errorf(api.CodeInvalidArgument, "device platform is limited to %d characters", api.MaxDevicePlatformLen)
	}
	if len(req.Device.Secret) > api.MaxDeviceSecretLen {
		req.Device.Secret = "" // cannot be one we issued; like an absent one
	}
	if req.Device.ID != "" && !store.ValidID(store.PrefixDevice, req.Device.ID) {
		// A malformed device ID cannot be one of ours; treat it as absent
		// rather than failing the sign-in of a client with a stale ID.
		req.Device.ID = ""
	}
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := s.store.Logout(r.Context(), c.Session.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, c *caller) error {
	perms := c.perms
	if perms == nil {
		perms = []string{}
	}
	writeJSON(w, http.StatusOK, api.Me{
		User:        toUser(c.User),
		Org:         api.Org{ID: c.Org.ID, Slug: c.Org.Slug, Name: c.Org.Name},
		Permissions: perms,
		SessionID:   c.Session.ID,
	})
	return nil
}
