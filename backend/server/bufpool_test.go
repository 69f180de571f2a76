package server

import (
	"net/http/httptest"
	"testing"

	"sessiondesk/backend/api"
)

// Each Server keeps its own response buffers: nothing one server answered
// is ever handed to another.
func TestServersDoNotShareBuffers(t *testing.T) {
	a, b := &Server{bufs: newBufPool()}, &Server{bufs: newBufPool()}
	writeList(a, httptest.NewRecorder(), sessionCodec, 0, func(int) api.Session { return api.Session{} }, nil)
	if len(a.bufs) != 1 || len(b.bufs) != 0 {
		t.Errorf("pooled buffers: a %d, b %d; want 1, 0", len(a.bufs), len(b.bufs))
	}
	none := &Server{} // a nil pool pools nothing and still answers
	rec := httptest.NewRecorder()
	writeList(none, rec, deviceCodec, 0, func(int) api.Device { return api.Device{} }, nil)
	if rec.Code != 200 || rec.Body.String() != `{"items":[],"next_cursor":null}`+"\n" {
		t.Errorf("nil pool answer: %d %q", rec.Code, rec.Body)
	}
}
