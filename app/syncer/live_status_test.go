package syncer

import "testing"

// The stream coming back after a failed sync asks the loop for a sync, so
// that "Last sync failed" does not stay beside "Live" until the next
// (long) live interval; a stream held while all is well asks for nothing.
func TestSetLiveAfterAFailedSyncAsksForASync(t *testing.T) {
	s := New(Config{})
	s.SetLive(true, "")
	select {
	case <-s.trigger:
		t.Fatal("a stream held with no sync error asked for a sync")
	default:
	}
	s.SetLive(false, "")
	s.SetOnline(false, "The platform cannot be reached.")
	s.SetLive(true, "")
	select {
	case <-s.trigger:
	default:
		t.Fatal("the stream came back after a failed sync but no sync was asked for")
	}
}
