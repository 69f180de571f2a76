package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// API errors and how each store error is answered (the table in server.go's
// package comment).

// Error is an API error: a wire code and a message safe to show.
type Error struct {
	Code       string
	Message    string
	RetryAfter time.Duration // for rate_limited and a shed unavailable
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// writeError answers with the error body. Domain errors keep their message;
// anything else is logged and answered without details.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		switch store.ErrorCode(err) {
		case store.ENotFound:
			e = errorf(api.CodeNotFound, "%s", store.ErrorMessage(err))
		case store.EInvalid, store.EConflict:
			e = errorf(api.CodeInvalidArgument, "%s", store.ErrorMessage(err))
		case store.EUnavailable:
			// The cause (disk full, I/O error) goes to the log; the caller
			// and /healthz get the message an operator can act on.
			s.log.Error("store unavailable", "method", logMethod(r), "path", logPath(r), "err", err)
			msg := store.ErrorMessage(err)
			s.unwritable.Store(&msg)
			e = errorf(api.CodeUnavailable, "%s", msg)
		default:
			if errors.Is(err, context.Canceled) {
				// The client went away; nobody reads the answer.
				s.log.Info("request canceled", "method", logMethod(r), "path", logPath(r))
			} else {
				s.log.Error("internal error", "method", logMethod(r), "path", logPath(r), "err", err)
			}
			e = errorf(api.CodeInternal, "internal error")
		}
	}
	if e.Code == api.CodeRateLimited || e.RetryAfter > 0 {
		secs := int((e.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	writeJSON(w, api.StatusOf(e.Code), api.ErrorBody{Error: api.ErrorDetail{Code: e.Code, Message: e.Message}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // the connection is the only thing that can fail here
}
