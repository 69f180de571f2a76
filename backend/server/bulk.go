package server

import (
	"net/http"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// terminateSelected ends chosen sessions (v1.1). Since v1.2 it needs
// pf.sessions.terminate_org whatever the number of IDs (see routes).
func (s *Server) terminateSelected(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req api.TerminateSelectedRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		return err
	}
	if len(req.IDs) == 0 || len(req.IDs) > api.MaxSelected {
		return errorf(api.CodeInvalidArgument, "ids must list 1 to %d session IDs", api.MaxSelected)
	}
	for i, id := range req.IDs {
		if !store.ValidID(store.PrefixSession, id) {
			return errorf(api.CodeInvalidArgument, "ids[%d] %q is not a session ID", i, truncate(id))
		}
	}
	if err := checkReason(req.Reason); err != nil {
		return err
	}
	res, err := s.store.TerminateSessions(r.Context(), c.Org.ID, req.IDs, store.Actor{UserID: c.User.ID, Reason: req.Reason})
	if err != nil {
		return err
	}
	s.log.Info("selected sessions terminated", "org_id", c.Org.ID, "actor_id", c.User.ID, "count", res.Terminated, "not_found", len(res.NotFound))
	writeJSON(w, http.StatusOK, api.TerminateSelectedResponse{Terminated: res.Terminated, NotFound: res.NotFound})
	return nil
}

// terminateUserSessions signs one person out everywhere (v1.1); endpoint
// has already checked pf.sessions.terminate_org unless the person is the
// caller (Route.PermissionForOthers).
func (s *Server) terminateUserSessions(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if !store.ValidID(store.PrefixUser, id) {
		return errorf(api.CodeInvalidArgument, "%q is not a user ID", truncate(id))
	}
	// The body is api.TerminateUserRequest, which is api.TerminateAllRequest.
	keep, by, err := endAllRequest(w, r, c)
	if err != nil {
		return err
	}
	n, err := s.store.TerminateUserSessions(r.Context(), c.Org.ID, id, keep, by)
	if err != nil {
		return err
	}
	s.log.Info("user signed out everywhere", "org_id", c.Org.ID, "actor_id", c.User.ID, "user_id", id, "count", n)
	writeJSON(w, http.StatusOK, api.TerminateAllResponse{Terminated: n})
	return nil
}
