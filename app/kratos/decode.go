package kratos

import (
	"encoding/json"
	"io"
)

// DecodeSessions reads one answer of GET /admin/sessions (identity and
// devices expanded) into Sessions exactly as ListSessions does. It is for
// the bench's floor (app/cmd/sdbench), which replays the requests a sync
// sent and must decode them the same way without the client around them.
func DecodeSessions(r io.Reader) ([]Session, error) {
	var wire []wireSession
	if err := json.NewDecoder(r).Decode(&wire); err != nil {
		return nil, err
	}
	return sessionsOf(wire), nil
}

func sessionsOf(wire []wireSession) []Session {
	out := make([]Session, 0, len(wire))
	for _, w := range wire {
		out = append(out, w.session())
	}
	return out
}
