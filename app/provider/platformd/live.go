// The live source of platformd: one signed-in profile's event stream (GET
// /api/v1/events), fed to the syncer (provider.LiveTarget), so the app hears
// of a change within a second instead of at the next 30 s poll.
//
// Each batch of events is applied through LiveTarget.ApplyChanges, the same
// step a delta sync applies its pages with (cache, indexes, new-device
// notification), together with the id of its last event, which is the
// resume token the next connection sends as Last-Event-ID. A first
// connection (no token yet) gets the present as an id-only block; a delta
// sync then covers whatever changed before it. "reset" (the token is too
// old) runs a full sync. "session_ended" signs the profile out at once.
//
// While the stream is held, polling slows to a safety net (LiveInterval).
// When it cannot be held — the platform has no such route (404), or nothing
// at all (not even the 10 s pings) arrives for SilenceTimeout, as behind a
// proxy that buffers — the syncer polls at its normal interval again, the
// sync status says why, and the stream is tried again later. Other failures
// reconnect with exponential backoff.

package platformd

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"sessiondesk/app/domain"
	"sessiondesk/app/provider"
	"sessiondesk/app/provider/httpx"
)

// Defaults of StreamConfig.
const (
	DefaultLiveInterval   = 5 * time.Minute
	DefaultSilenceTimeout = 20 * time.Second
	DefaultRetryFallback  = 5 * time.Minute
	DefaultBackoffMin     = 500 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
)

// maxBatch bounds the events applied in one cache transaction: a burst
// (terminate-all) is applied in a few transactions, not thousands.
const maxBatch = 500

// maxLine bounds one line of the stream (an event's data is one object of a
// few KiB at most).
const maxLine = 1 << 20

// StreamConfig wires a Stream.
type StreamConfig struct {
	Client *Client // with the profile's token
	Target provider.LiveTarget
	// SessionEnded is called once when the platform says this profile's
	// own session ended (or rejects its token).
	SessionEnded func()
	// LiveInterval is the syncer's interval while live (a safety net).
	LiveInterval time.Duration
	// SilenceTimeout: no byte for this long means the stream is not held.
	SilenceTimeout time.Duration
	// RetryFallback is how long polling lasts before the stream is tried
	// again after it could not be held.
	RetryFallback          time.Duration
	BackoffMin, BackoffMax time.Duration
	Log                    *slog.Logger
}

// Stream is one profile's event stream.
type Stream struct {
	cfg StreamConfig
}

// NewStream returns a Stream; Run holds it.
func NewStream(cfg StreamConfig) *Stream {
	cfg.LiveInterval = httpx.Positive(cfg.LiveInterval, DefaultLiveInterval)
	cfg.SilenceTimeout = httpx.Positive(cfg.SilenceTimeout, DefaultSilenceTimeout)
	cfg.RetryFallback = httpx.Positive(cfg.RetryFallback, DefaultRetryFallback)
	cfg.BackoffMin = httpx.Positive(cfg.BackoffMin, DefaultBackoffMin)
	cfg.BackoffMax = httpx.Positive(cfg.BackoffMax, DefaultBackoffMax)
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.SessionEnded == nil {
		cfg.SessionEnded = func() {}
	}
	return &Stream{cfg: cfg}
}

// Reasons a stream is given up for a while.
var (
	errSilent      = errors.New("live: no data from the platform (a proxy may buffer the stream)")
	errEnded       = errors.New("live: the session ended")
	errUnsupported = errors.New("live: the platform has no event stream")
)

// Run holds the stream until ctx ends or the session ends.
func (s *Stream) Run(ctx context.Context) {
	t := s.cfg.Target
	defer func() {
		t.SetLive(false, "")
		t.SetInterval(0)
	}()
	failures := 0
	for ctx.Err() == nil {
		held, err := s.once(ctx)
		if ctx.Err() != nil {
			return
		}
		if held {
			failures = 0
		}
		var wait time.Duration
		switch {
		case errors.Is(err, errEnded):
			s.cfg.SessionEnded()
			return
		case errors.Is(err, errUnsupported), errors.Is(err, errSilent):
			note := provider.PollHeldBack
			if errors.Is(err, errUnsupported) {
				note = provider.PollNoStream
			}
			s.cfg.Log.Info("live updates unavailable; polling", "err", err)
			t.SetLive(false, note)
			t.SetInterval(0)
			wait = s.cfg.RetryFallback
		default:
			failures++
			wait = backoff(s.cfg.BackoffMin, s.cfg.BackoffMax, failures)
			s.cfg.Log.Info("live stream interrupted; reconnecting", "err", err, "in", wait)
			t.SetLive(false, "")
			t.SetInterval(0)
			if held {
				// The syncer's timer still runs on the long live interval:
				// sync once now, so that a platform that went away shows as
				// offline at once, and what changed meanwhile arrives.
				if err := t.CatchUp(ctx, false); err != nil {
					s.cfg.Log.Info("sync after the stream broke did not complete", "err", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// backoff is exponential with full jitter in its upper half.
func backoff(lo, hi time.Duration, failures int) time.Duration {
	d := lo << min(failures-1, 16)
	if d > hi || d <= 0 {
		d = hi
	}
	return d/2 + rand.N(d/2+1)
}

// block is one SSE block.
type block struct {
	id, event, data string
	hasID           bool
}

// once holds one connection; held reports whether it got as far as
// receiving from the platform.
func (s *Stream) once(ctx context.Context) (held bool, err error) {
	t := s.cfg.Target
	last, err := t.ResumeToken(ctx)
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := s.open(ctx, last)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()

	// A reader goroutine turns lines into blocks; any byte, pings included,
	// feeds the silence watchdog.
	blocks := make(chan block, maxBatch)
	alive := make(chan struct{}, 1)
	readErr := make(chan error, 1)
	go func() {
		readErr <- readBlocks(resp.Body, blocks, alive)
		close(blocks)
	}()
	silence := time.NewTimer(s.cfg.SilenceTimeout)
	defer silence.Stop()
	live, first := false, last == ""
	for {
		select {
		case <-ctx.Done():
			return held, ctx.Err()
		case <-silence.C:
			return held, errSilent
		case <-alive:
			silence.Reset(s.cfg.SilenceTimeout)
			if !live {
				// Bytes arrive as they are sent: the stream is held.
				live, held = true, true
				t.SetInterval(s.cfg.LiveInterval)
				t.SetLive(true, "")
			}
		case b, ok := <-blocks:
			if !ok {
				err := <-readErr
				if err == nil {
					err = io.ErrUnexpectedEOF
				}
				return held, fmt.Errorf("live: stream ended: %w", err)
			}
			if err := s.handle(ctx, gather(b, blocks), first); err != nil {
				return held, err
			}
			first = false
			// The watchdog times the platform's silence, not the app's own
			// work: applying waits for the sync lock, and the first block
			// of a connection catches up with a sync, which at a million
			// sessions held it for most of a minute while the reader kept
			// taking the platform's pings. The stream was then declared
			// silent and the app fell back to polling.
			silence.Reset(s.cfg.SilenceTimeout)
		}
	}
}

// open opens the event stream from resume token last, telling apart a
// platform without one, a session that ended and a token it does not know
// (forgotten, so that the next try starts from the present).
func (s *Stream) open(ctx context.Context, last string) (*http.Response, error) {
	resp, err := s.cfg.Client.OpenEvents(ctx, last)
	if err != nil {
		var pe *Error
		if errors.As(err, &pe) {
			switch pe.Status {
			case http.StatusNotFound:
				return nil, errUnsupported
			case http.StatusUnauthorized:
				return nil, errEnded
			case http.StatusBadRequest:
				// A token this platform does not know (another
				// database): forget it and start from the present.
				if aerr := s.cfg.Target.ApplyChanges(ctx, domain.Changes{}, ""); aerr != nil {
					return nil, aerr
				}
			}
		}
		return nil, err
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		resp.Body.Close()
		return nil, errUnsupported
	}
	return resp, nil
}

// gather is b and the blocks already waiting behind it, up to maxBatch,
// applied together.
func gather(b block, blocks <-chan block) []block {
	batch := []block{b}
	for len(batch) < maxBatch {
		select {
		case nb, ok := <-blocks:
			if !ok {
				return batch
			}
			batch = append(batch, nb)
		default:
			return batch
		}
	}
	return batch
}

// handle applies a batch of blocks in order: runs of changes in one
// ApplyEvents, control events as they come.
func (s *Stream) handle(ctx context.Context, batch []block, first bool) error {
	t := s.cfg.Target
	var ch domain.Changes
	var lastID string
	flush := func() error {
		if lastID == "" {
			return nil
		}
		err := t.ApplyChanges(ctx, ch, lastID)
		ch, lastID = domain.Changes{}, ""
		return err
	}
	for _, b := range batch {
		switch b.event {
		case "":
			if !b.hasID {
				continue
			}
			// The present, on a connection without a token: what changed
			// before it comes from a delta sync, then the token is kept.
			if err := flush(); err != nil {
				return err
			}
			if first {
				if err := t.CatchUp(ctx, false); err != nil {
					return err
				}
			}
			if err := t.ApplyChanges(ctx, domain.Changes{}, b.id); err != nil {
				return err
			}
		case "session":
			if err := decodeInto(b, &ch.Sessions, sessionOf); err != nil {
				return err
			}
			lastID = b.id
		case "device":
			if err := decodeInto(b, &ch.Devices, deviceOf); err != nil {
				return err
			}
			lastID = b.id
		case "audit":
			if err := decodeInto(b, &ch.Audit, auditEventOf); err != nil {
				return err
			}
			lastID = b.id
		case "reset":
			if err := flush(); err != nil {
				return err
			}
			if err := t.CatchUp(ctx, true); err != nil {
				return err
			}
			if err := t.ApplyChanges(ctx, domain.Changes{}, b.id); err != nil {
				return err
			}
		case "session_ended":
			_ = flush()
			return errEnded
		default:
			// Unknown events of a newer platform are skipped.
		}
	}
	return flush()
}

// readBlocks parses the stream into blocks until it ends.
func readBlocks(r io.Reader, out chan<- block, alive chan<- struct{}) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var b block
	for sc.Scan() {
		select {
		case alive <- struct{}{}:
		default:
		}
		line := sc.Text()
		if line == "" {
			if b.event != "" || b.hasID {
				out <- b
			}
			b = block{}
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // a comment: ": ping"
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			b.id, b.hasID = value, true
		case "event":
			b.event = value
		case "data":
			if b.data != "" {
				b.data += "\n"
			}
			b.data += value
		}
	}
	return sc.Err()
}

// decodeInto decodes b's data (the contract's wire row W) and appends it
// to rows as the app's T.
func decodeInto[W, T any](b block, rows *[]T, of func(*W) T) error {
	var x W
	if err := json.Unmarshal([]byte(b.data), &x); err != nil {
		return fmt.Errorf("live: %s event: %w", b.event, err)
	}
	*rows = append(*rows, of(&x))
	return nil
}
