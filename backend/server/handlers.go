package server

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// maxQueryLen bounds the q search parameter.
const maxQueryLen = 200

// listParams reads the query parameters the session and device lists share,
// in the order their errors are reported.
func listParams(q url.Values) (userID, search string, limit int, updatedSince *time.Time, err error) {
	if userID, err = userIDParam(q.Get("user_id")); err != nil {
		return
	}
	if search, err = queryParam(q.Get("q")); err != nil {
		return
	}
	if limit, err = limitParam(q.Get("limit")); err != nil {
		return
	}
	updatedSince, err = timeParam("updated_since", q.Get("updated_since"))
	return
}

// actionRequest reads what every single-object action takes: the object's
// ID from the path (of the given prefix; noun names it in the error) and the
// optional reason from the body, as the audit actor of the caller.
func actionRequest(w http.ResponseWriter, r *http.Request, c *caller, prefix, noun string) (string, store.Actor, error) {
	id := r.PathValue("id")
	if !store.ValidID(prefix, id) {
		return "", store.Actor{}, errorf(api.CodeInvalidArgument, "%q is not a %s ID", truncate(id), noun)
	}
	var req api.ReasonRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return "", store.Actor{}, err
	}
	if err := checkReason(req.Reason); err != nil {
		return "", store.Actor{}, err
	}
	return id, store.Actor{UserID: c.User.ID, Reason: req.Reason}, nil
}

// singleAction runs an action on one object: the ID from the path and the
// reason from the body (actionRequest), then do as the caller; it logs done
// and answers with the object as answer encodes it.
func singleAction[T any](s *Server, w http.ResponseWriter, r *http.Request, c *caller, prefix, noun string,
	do func(ctx context.Context, orgID, id string, by store.Actor) (T, error), done string, answer func(T) any) error {
	id, by, err := actionRequest(w, r, c, prefix, noun)
	if err != nil {
		return err
	}
	v, err := do(r.Context(), c.Org.ID, id, by)
	if err != nil {
		return err
	}
	s.log.Info(done, "org_id", c.Org.ID, "actor_id", c.User.ID, noun+"_id", id)
	writeJSON(w, http.StatusOK, answer(v))
	return nil
}

// endAllRequest reads the body of the routes that end every session of the
// organization or of a person: the reason, as the audit actor of the
// caller, and the caller's own session when it is to be kept (keep_current
// defaults to true).
func endAllRequest(w http.ResponseWriter, r *http.Request, c *caller) (keep string, by store.Actor, err error) {
	var req api.TerminateAllRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return "", store.Actor{}, err
	}
	if err := checkReason(req.Reason); err != nil {
		return "", store.Actor{}, err
	}
	if req.KeepCurrent == nil || *req.KeepCurrent {
		keep = c.Session.ID
	}
	return keep, store.Actor{UserID: c.User.ID, Reason: req.Reason}, nil
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request, c *caller) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	f := store.SessionFilter{Now: s.clock(), ActiveOnly: true}
	switch q.Get("status") {
	case "", api.StatusActive:
	case "all":
		f.ActiveOnly = false
	default:
		return errorf(api.CodeInvalidArgument, "status must be active or all")
	}
	if f.UserID, f.Query, f.Limit, f.UpdatedSince, err = listParams(q); err != nil {
		return err
	}
	kind := cursorSessions
	if f.UpdatedSince != nil {
		// The feed reports changes of every status: a session that became
		// terminated is exactly the change a syncing client must see.
		if q.Get("status") == api.StatusActive {
			return errorf(api.CodeInvalidArgument, "updated_since returns sessions of every status; leave status out or use status=all")
		}
		kind = cursorSessionsFeed
	}
	if f.After, err = decodeCursor(kind, q.Get("cursor")); err != nil {
		return err
	}
	page, err := s.store.ListSessions(r.Context(), c.Org.ID, f)
	return writePage(s, w, sessionCodec, kind, page, err, func(x *store.Session) api.Session {
		return toSession(*x, f.Now, c.Session.ID)
	})
}

// writePage answers with a page the store listed (or its error), each row
// converted by conv and the cursor of the given kind.
func writePage[S, T any](s *Server, w http.ResponseWriter, codec listCodec[T], kind string, page store.Page[S], err error, conv func(*S) T) error {
	if err != nil {
		return err
	}
	writeList(s, w, codec, len(page.Items), func(i int) T { return conv(&page.Items[i]) }, encodeCursor(kind, page.Next))
	return nil
}

func (s *Server) terminateSession(w http.ResponseWriter, r *http.Request, c *caller) error {
	return singleAction(s, w, r, c, store.PrefixSession, "session", s.store.TerminateSession, "session terminated",
		func(ss store.Session) any { return toSession(ss, s.clock(), c.Session.ID) })
}

func (s *Server) terminateAll(w http.ResponseWriter, r *http.Request, c *caller) error {
	keep, by, err := endAllRequest(w, r, c)
	if err != nil {
		return err
	}
	n, err := s.store.TerminateAll(r.Context(), c.Org.ID, keep, by)
	if err != nil {
		return err
	}
	s.log.Info("all sessions terminated", "org_id", c.Org.ID, "actor_id", c.User.ID, "count", n, "kept_current", keep != "")
	writeJSON(w, http.StatusOK, api.TerminateAllResponse{Terminated: n})
	return nil
}

func (s *Server) listDevices(w http.ResponseWriter, r *http.Request, c *caller) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	var f store.DeviceFilter
	switch q.Get("trusted") {
	case "":
	case "true":
		t := true
		f.Trusted = &t
	case "false":
		t := false
		f.Trusted = &t
	default:
		return errorf(api.CodeInvalidArgument, "trusted must be true or false")
	}
	if f.UserID, f.Query, f.Limit, f.UpdatedSince, err = listParams(q); err != nil {
		return err
	}
	kind := cursorDevices
	if f.UpdatedSince != nil {
		kind = cursorDevicesFeed
	}
	if f.After, err = decodeCursor(kind, q.Get("cursor")); err != nil {
		return err
	}
	page, err := s.store.ListDevices(r.Context(), c.Org.ID, f)
	return writePage(s, w, deviceCodec, kind, page, err, func(x *store.Device) api.Device { return toDevice(*x) })
}

func (s *Server) untrustDevice(w http.ResponseWriter, r *http.Request, c *caller) error {
	return singleAction(s, w, r, c, store.PrefixDevice, "device", s.store.UntrustDevice, "device trust revoked",
		func(d store.Device) any { return toDevice(d) })
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, c *caller) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	var f store.AuditFilter
	if f.Action, err = actionParam(q.Get("action")); err != nil {
		return err
	}
	if f.ActorID = q.Get("actor_id"); f.ActorID != "" && f.ActorID != store.SystemActorID && !store.ValidID(store.PrefixUser, f.ActorID) {
		return errorf(api.CodeInvalidArgument, "actor_id %q is not a user ID (or %q)", truncate(f.ActorID), store.SystemActorID)
	}
	if f.TargetUserID, err = userIDParam(q.Get("target_user_id")); err != nil {
		return err
	}
	if f.Query, err = queryParam(q.Get("q")); err != nil {
		return err
	}
	if f.Limit, err = limitParam(q.Get("limit")); err != nil {
		return err
	}
	if f.After, err = decodeCursor(cursorAudit, q.Get("cursor")); err != nil {
		return err
	}
	page, err := s.store.ListAudit(r.Context(), c.Org.ID, f)
	if err != nil {
		return err
	}
	out := api.AuditList{Items: make([]api.AuditEvent, 0, len(page.Items))}
	for _, e := range page.Items {
		out.Items = append(out.Items, toAuditEvent(e))
	}
	out.NextCursor = encodeCursor(cursorAudit, page.Next)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// actionParam accepts any well-formed action name, known or not: the list of
// actions may grow, and an unknown one simply matches nothing.
func actionParam(v string) (string, error) {
	if len(v) > api.MaxActionLen {
		return "", errorf(api.CodeInvalidArgument, "action is at most %d characters", api.MaxActionLen)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c == '.' || c == '_') {
			return "", errorf(api.CodeInvalidArgument, "action must be an action name such as %s", api.ActionSessionTerminate)
		}
	}
	return v, nil
}

// query parses the query string strictly: a malformed one is a 400, not a
// silently dropped parameter.
func query(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errorf(api.CodeInvalidArgument, "the query string is malformed")
	}
	return q, nil
}

func limitParam(v string) (int, error) {
	if v == "" {
		return api.DefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > api.MaxLimit {
		return 0, errorf(api.CodeInvalidArgument, "limit must be a whole number from 1 to %d", api.MaxLimit)
	}
	return n, nil
}

func userIDParam(v string) (string, error) {
	if v != "" && !store.ValidID(store.PrefixUser, v) {
		return "", errorf(api.CodeInvalidArgument, "user_id %q is not a user ID", truncate(v))
	}
	return v, nil
}

func queryParam(v string) (string, error) {
	if utf8.RuneCountInString(v) > maxQueryLen || !utf8.ValidString(v) {
		return "", errorf(api.CodeInvalidArgument, "q must be valid text of at most %d characters", maxQueryLen)
	}
	return v, nil
}

func timeParam(name, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, errorf(api.CodeInvalidArgument, "%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z", name)
	}
	t = t.UTC()
	if t.Before(minUpdatedSince) || t.After(maxUpdatedSince) {
		return nil, errorf(api.CodeInvalidArgument, "%s must be a time from 1970 to 9999 (UTC)", name)
	}
	return &t, nil
}

func checkReason(reason string) error {
	if utf8.RuneCountInString(reason) > api.MaxReasonLen {
		return errorf(api.CodeInvalidArgument, "reason is limited to %d characters", api.MaxReasonLen)
	}
	return nil
}

// truncate keeps echoed input short in error messages.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func toUser(u store.User) api.User {
	return api.User{ID: u.ID, Email: u.Email, Name: u.Name}
}

func toSession(s store.Session, now time.Time, currentID string) api.Session {
	out := api.Session{
		ID:           s.ID,
		User:         toUser(s.User),
		IP:           s.IP,
		UserAgent:    cutUserAgent(s.UserAgent), // rows stored before the cut existed
		Client:       s.Client,
		Location:     s.Location,
		CreatedAt:    s.CreatedAt,
		LastActiveAt: s.LastActiveAt,
		ExpiresAt:    s.ExpiresAt,
		UpdatedAt:    s.UpdatedAt,
		Status:       s.Status(now),
		TerminatedAt: s.TerminatedAt,
		MFA:          s.MFA,
		Current:      s.ID == currentID,
	}
	out.DeviceID = optional(s.DeviceID)
	out.TerminatedBy = toOptionalUser(s.TerminatedBy)
	return out
}

func toDevice(d store.Device) api.Device {
	return api.Device{
		ID:          d.ID,
		User:        toUser(d.User),
		Name:        d.Name,
		Platform:    d.Platform,
		Trusted:     d.Trusted(),
		TrustedAt:   d.TrustedAt,
		FirstSeenAt: d.FirstSeenAt,
		LastSeenAt:  d.LastSeenAt,
		LastIP:      d.LastIP,
		UpdatedAt:   d.UpdatedAt,
	}
}

func toAuditEvent(e store.AuditEvent) api.AuditEvent {
	ev := api.AuditEvent{ID: e.ID, At: e.At, Actor: toUser(e.Actor), Action: e.Action, Count: e.Count,
		Reason: e.Reason, TargetLabel: e.TargetLabel, TargetIDs: e.TargetIDs}
	if ev.TargetIDs == nil {
		ev.TargetIDs = []string{} // the wire has [], never null
	}
	ev.TargetID = optional(e.TargetID)
	ev.TargetUser = toOptionalUser(e.TargetUser)
	return ev
}

// optional is an optional wire string: nil (null) when empty.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// toOptionalUser is toUser of an optional user: nil (null) for none.
func toOptionalUser(u *store.User) *api.User {
	if u == nil {
		return nil
	}
	v := toUser(*u)
	return &v
}
