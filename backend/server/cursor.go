package server

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"sessiondesk/backend/api"
	"sessiondesk/backend/store"
)

// Cursors are opaque to clients: base64url of "v1.<kind>.<unix nanos>.<id>",
// the keyset position after the last item of a page. The kind ties a cursor
// to the list (and order) that issued it, so a devices cursor given to
// /sessions, or a feed cursor given to the plain list, is a 400 rather than
// a silently wrong page.
const (
	cursorSessions     = "s"
	cursorSessionsFeed = "sf"
	cursorDevices      = "d"
	cursorDevicesFeed  = "df"
	cursorAudit        = "a"
)

// maxCursorLen bounds what is decoded; real cursors are about 70 bytes.
const maxCursorLen = 200

func cursorPrefix(kind string) string {
	switch kind {
	case cursorSessions, cursorSessionsFeed:
		return store.PrefixSession
	case cursorDevices, cursorDevicesFeed:
		return store.PrefixDevice
	default:
		return store.PrefixAudit
	}
}

func encodeCursor(kind string, k *store.Key) *string {
	if k == nil {
		return nil
	}
	raw := "v1." + kind + "." + strconv.FormatInt(k.At.UnixNano(), 10) + "." + k.ID
	c := base64.RawURLEncoding.EncodeToString([]byte(raw))
	return &c
}

// decodeCursor parses a cursor issued for kind; "" is the first page.
func decodeCursor(kind, c string) (*store.Key, error) {
	if c == "" {
		return nil, nil
	}
	bad := errorf(api.CodeInvalidArgument, "cursor is not valid here; use next_cursor of the same list, or leave it out for the first page")
	if len(c) > maxCursorLen {
		return nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 4 || parts[0] != "v1" || parts[1] != kind {
		return nil, bad
	}
	n, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != parts[2] {
		return nil, bad
	}
	if !store.ValidID(cursorPrefix(kind), parts[3]) {
		return nil, bad
	}
	return &store.Key{At: time.Unix(0, n).UTC(), ID: parts[3]}, nil
}
