package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"sessiondesk/backend/api"
)

// decodeJSON reads one JSON value from the request body into v: at most
// api.MaxBodyBytes, no unknown fields, nothing after the value. An empty
// body is accepted when the body is optional (required false) and leaves v
// as it is. Every failure is a 400 invalid_argument whose message names the
// problem but never echoes the body, which may hold a password.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, required bool) error {
	return decodeBody(http.MaxBytesReader(w, r.Body, api.MaxBodyBytes), v, required)
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
