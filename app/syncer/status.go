package syncer

import (
	"errors"
	"time"

	"sessiondesk/app/domain"
)

// Status is the sync state shown to the user.
type Status struct {
	Online     bool       `json:"online"`
	Syncing    bool       `json:"syncing"`
	LastSyncAt *time.Time `json:"lastSyncAt"`
	LastError  string     `json:"lastError"`
	Phase      string     `json:"phase"`
	Done       int        `json:"done"`
	Total      int        `json:"total"`
	// Live is set while the platform's event stream is held (a provider's live source, see provider.Provider.Watch);
	// LastEventAt is when its last change arrived. LiveNote says why
	// changes are polled instead, when the stream cannot be held (worded
	// by Config.Words for the interval).
	Live        bool       `json:"live"`
	LastEventAt *time.Time `json:"lastEventAt"`
	LiveNote    string     `json:"liveNote"`
	// RetryAt is when the platform said it may be asked again (after a 429
	// or 503 with Retry-After); nil when it did not ask to wait.
	RetryAt *time.Time `json:"retryAt"`
	// ClockOffsetMS is the platform's clock minus this computer's, so that
	// the UI shows times ("expires in 2 h") on the platform's clock.
	ClockOffsetMS int64 `json:"clockOffsetMs"`
	// IntervalSeconds is the time between background syncs now: what the
	// status says ("checking every 30 s") when changes are polled.
	IntervalSeconds int `json:"intervalSeconds"`
}

// Problem is what kept a sync from completing, as the user is told it
// (Words.Problem words it).
type Problem int

const (
	// Busy: the platform asked to wait (429 or 503 with Retry-After); the
	// wait is how long.
	Busy Problem = iota + 1
	// BusyNoWait: the platform was busy and named no wait.
	BusyNoWait
	// BrokeOff: an answer broke off while data arrived; the sync resumes.
	BrokeOff
	// Unreachable: the identity system cannot be reached.
	Unreachable
	// Failed: anything else; the error says what.
	Failed
)

// Words are the sentences of the sync status. The app words them in its
// one text table (desk/errors.go), for the identity system the profile is
// on; nil Words leave the status with technical text (the error, the note
// as the provider gave it).
type Words interface {
	// Problem words a sync that did not complete because of err; wait is
	// for Busy.
	Problem(p Problem, wait time.Duration, err error) string
	// Polling words why changes are polled (a provider's note, see
	// provider.LiveTarget.SetLive) at the interval between syncs.
	Polling(note string, interval time.Duration) string
}

// Status returns the current sync state.
func (s *Syncer) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statusLocked()
}

// statusLocked is the status as shown, worded for the current interval;
// the caller holds mu.
func (s *Syncer) statusLocked() Status {
	st := s.status
	st.IntervalSeconds = int(s.cfg.Interval / time.Second)
	if st.LiveNote != "" && s.cfg.Words != nil {
		st.LiveNote = s.cfg.Words.Polling(st.LiveNote, s.cfg.Interval)
	}
	return st
}

func (s *Syncer) setStatus(fn func(*Status)) {
	s.mu.Lock()
	fn(&s.status)
	st := s.statusLocked()
	s.mu.Unlock()
	if s.cfg.Listener != nil {
		s.cfg.Listener.Status(st)
	}
}

// problemText words p (see Words), or says err when there are no Words.
func (s *Syncer) problemText(p Problem, wait time.Duration, err error) string {
	if s.cfg.Words == nil {
		return errMessage(err)
	}
	return s.cfg.Words.Problem(p, wait, err)
}

// SetOnline records reachability learned elsewhere (e.g. a failed action).
func (s *Syncer) SetOnline(online bool, why string) {
	s.setStatus(func(st *Status) {
		st.Online = online
		if !online {
			st.LastError = why
		}
	})
}

// SetLive records the state of the event stream for the sync status.
// A stream held again while the last sync failed (the platform was away and
// is back) asks for a sync at once: only a sync that succeeds clears
// LastError, and on the long live interval the header would show "Live"
// beside "Last sync failed" for minutes.
func (s *Syncer) SetLive(live bool, note string) {
	var retry bool
	s.setStatus(func(st *Status) {
		retry = live && !st.Live && st.LastError != ""
		st.Live, st.LiveNote = live, note
	})
	if retry {
		s.Trigger()
	}
}

// busyError is a sync not sent because the platform asked to wait.
type busyError struct{ until time.Time }

func (e *busyError) Error() string {
	return "sync: the platform asked to wait until " + e.until.Format(time.RFC3339)
}

func errMessage(err error) string {
	var pe *domain.Error
	if errors.As(err, &pe) {
		return pe.Message
	}
	return err.Error()
}

func (s *Syncer) progress(phase string, done int) {
	s.setStatus(func(st *Status) { st.Syncing, st.Phase, st.Done = true, phase, done })
}
