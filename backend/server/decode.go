package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"sessiondesk/backend/api"
)

// readBody reads the request's whole body into memory before the request
// takes a load-shedding slot (contract v1.2): at most api.MaxBodyBytes,
// within the server's body timeout (api.BodyReadTimeout unless configured).
// A client that sends its body slowly then holds no slot, only its own
// connection, and is answered 408 request_timeout when the time is up.
//
// The deadline is the request's own, set through http.ResponseController
// (on HTTP/1 the connection's, on HTTP/2 the stream's); the http.Server's
// ReadTimeout covers headers and body together and is far longer. Once the
// body is in, the deadline is cleared: nothing more is read for this
// request, and a deadline left behind would fire in the server's own watch
// for a closed connection and cancel a handler that runs longer.
//
// Memory follows what a client sent: a body starts in a 512-byte buffer,
// which is all that most bodies need (a sign-in is ~200 bytes) and all that
// a client stalling after its first bytes holds; a larger one continues in
// a pooled 64 KiB buffer. The returned request reads the body from memory
// (decodeJSON), and done gives the buffer back once the handler returned.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (_ *http.Request, done func(), err error) {
	// On error the request returned is r itself, for the error's answer.
	if !hasBody(r) {
		return r, func() {}, nil
	}
	defer func() {
		// A body left unread on an HTTP/1 connection would have to be read
		// (and waited for) before the connection could serve another
		// request: close it after the answer instead. (On HTTP/2 this
		// header would end the whole connection; the stream is reset
		// instead, by the server.)
		if err != nil && r.ProtoMajor == 1 {
			w.Header().Set("Connection", "close")
		}
	}()
	if r.ContentLength > api.MaxBodyBytes {
		return r, nil, bodyError(&http.MaxBytesError{Limit: api.MaxBodyBytes})
	}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(s.bodyWait)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return r, nil, err
	}
	buf := make([]byte, 0, 512)
	var pooled []byte
	for err == nil {
		if len(buf) == cap(buf) {
			if pooled != nil {
				// 64 KiB are in: the body may end here, or be too large.
				var more [1]byte
				var n int
				if n, err = r.Body.Read(more[:]); n > 0 {
					err = bodyError(&http.MaxBytesError{Limit: api.MaxBodyBytes})
				}
				continue
			}
			pooled = s.bodies.get(api.MaxBodyBytes)[:api.MaxBodyBytes:api.MaxBodyBytes]
			buf = pooled[:copy(pooled, buf)]
		}
		var n int
		n, err = r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
	}
	if errors.Is(err, io.EOF) {
		err = nil // the whole body is in
	}
	if err == nil {
		if derr := rc.SetReadDeadline(time.Time{}); derr != nil && !errors.Is(derr, http.ErrNotSupported) {
			err = derr
		}
	}
	giveBack := func() {
		if pooled != nil {
			s.bodies.put(pooled)
		}
	}
	if err != nil {
		giveBack()
		var ne net.Error
		var e *Error
		switch {
		case errors.As(err, &e):
		case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
			err = errorf(api.CodeRequestTimeout, "the request body did not arrive within %s", s.bodyWait)
		default:
			// The client went away mid-body, or sent a broken chunked
			// encoding; nobody may be there to read this.
			err = errorf(api.CodeInvalidArgument, "the request body could not be read")
		}
		return r, nil, err
	}
	// The handler gets a copy of the request that reads from memory; the
	// server's own request keeps its body, which it checks after the
	// handler to decide whether the connection can serve another request.
	r = r.WithContext(r.Context())
	r.Body = io.NopCloser(bytes.NewReader(buf))
	return r, giveBack, nil
}

// decodeJSON reads one JSON value from the request body into v: no unknown
// fields, nothing after the value. The body is already in memory and
// bounded by api.MaxBodyBytes (readBody, before the handler runs). An empty
// body is accepted when the body is optional (required false) and leaves v
// as it is. Every failure is a 400 invalid_argument whose message names the
// problem but never echoes the body, which may hold a password.
func decodeJSON(_ http.ResponseWriter, r *http.Request, v any, required bool) error {
	return decodeBody(r.Body, v, required)
}

func decodeBody(body io.Reader, v any, required bool) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) && !required {
			return nil
		}
		return bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return bodyError(err)
		}
		return errorf(api.CodeInvalidArgument, "the request body must hold a single JSON value")
	}
	return nil
}

func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return errorf(api.CodeInvalidArgument, "the request body is larger than %d KiB", api.MaxBodyBytes>>10)
	case errors.Is(err, io.EOF):
		return errorf(api.CodeInvalidArgument, "the request body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(api.CodeInvalidArgument, "the request body ends in the middle of a JSON value")
	case errors.As(err, &syntax):
		return errorf(api.CodeInvalidArgument, "the request body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return errorf(api.CodeInvalidArgument, "field %q must be a JSON %s", truncate(typ.Field), jsonKind(typ.Type.Kind().String()))
		}
		return errorf(api.CodeInvalidArgument, "the request body must be a JSON object")
	default:
		// json reports unknown fields only as text: `json: unknown field "x"`.
		// The field name is the client's own key, not a value.
		msg := err.Error()
		const prefix = "json: unknown field "
		if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
			return errorf(api.CodeInvalidArgument, "unknown field %s", truncate(msg[len(prefix):]))
		}
		return errorf(api.CodeInvalidArgument, "the request body is not valid JSON")
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "ptr":
		return "value of the documented type"
	default:
		return "number"
	}
}
