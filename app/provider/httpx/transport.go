package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// attemptTransport runs one HTTP attempt under the two limits that tell a
// dead link from a slow one (see the package comment) and reads the whole
// body inside the attempt, so that a body that breaks off is an attempt's
// error, which the retry loop retries, and not the caller's. It also feeds
// every answer's Date header to the client's estimate of the platform's
// clock.
type attemptTransport struct {
	base      http.RoundTripper
	firstByte time.Duration
	idle      time.Duration
	clock     *serverClock
}

// errBudgetSpent stops a retry that the backoff carried past the call's
// budget.
var errBudgetSpent = errors.New("the call's time budget is spent")

// limitError says which limit ended an attempt.
type limitError struct {
	what  string
	limit time.Duration
}

func (e *limitError) Error() string { return fmt.Sprintf("%s within %s", e.what, e.limit) }

// bodyError is a body that broke off after the headers arrived: the
// platform answered, the link failed.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "reading answer: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// RoundTrip makes one attempt. A failed attempt is noted in the call's
// budget, so that a retry the backoff carries past the budget still says
// what the platform did (for example "no answer within 10s"), not only that
// time ran out.
func (t *attemptTransport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	b := budgetFrom(req.Context())
	if b.spent() {
		return nil, b.spentError()
	}
	defer func() {
		if err != nil {
			b.note(err)
		}
	}()
	return t.attempt(req)
}

func (t *attemptTransport) attempt(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	var fired *limitError
	var firedMu sync.Mutex
	fire := func(e *limitError) func() {
		return func() {
			firedMu.Lock()
			fired = e
			firedMu.Unlock()
			cancel()
		}
	}
	limitHit := func() *limitError {
		firedMu.Lock()
		defer firedMu.Unlock()
		return fired
	}
	firstByte := t.firstByte
	if d, ok := req.Context().Value(answerWithinKey{}).(time.Duration); ok && d > firstByte {
		firstByte = d
	}
	timer := time.AfterFunc(firstByte, fire(&limitError{"no answer", firstByte}))
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if !timer.Stop() || err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		cancel()
		if e := limitHit(); e != nil {
			return nil, e
		}
		if err == nil {
			err = errors.New("attempt cancelled")
		}
		return nil, err
	}
	t.clock.observe(resp.Header.Get("Date"))

	// The body: any progress restarts the idle limit.
	idle := time.AfterFunc(t.idle, fire(&limitError{"answer stalled: no data", t.idle}))
	var buf bytes.Buffer
	chunk := make([]byte, 32<<10)
	body := io.LimitReader(resp.Body, MaxResponseBytes)
	for {
		n, rerr := body.Read(chunk)
		if n > 0 {
			buf.Write(chunk[:n])
			idle.Reset(t.idle)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			idle.Stop()
			resp.Body.Close()
			cancel()
			if e := limitHit(); e != nil {
				return nil, &bodyError{e}
			}
			return nil, &bodyError{rerr}
		}
	}
	idle.Stop()
	resp.Body.Close()
	cancel()
	resp.Body = io.NopCloser(bytes.NewReader(buf.Bytes()))
	resp.ContentLength = int64(buf.Len())
	return resp, nil
}

// serverClock estimates the platform's clock as the workstation's plus an
// offset learned from the Date headers of its answers.
type serverClock struct {
	local func() time.Time

	mu     sync.Mutex
	offset time.Duration
	known  bool
}

// observe takes one Date header. Its whole-second value is the server's
// clock rounded down when it wrote the answer, shortly before it arrived:
// half a second is added so that the estimate's error is within ±0.5 s plus
// the network's one-way delay.
func (c *serverClock) observe(date string) {
	if date == "" {
		return
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return
	}
	off := t.Add(500 * time.Millisecond).Sub(c.local())
	c.mu.Lock()
	// Keep a whole-second jitter out: a change under a second is noise of
	// the header's resolution, not a clock that moved.
	if !c.known || (off-c.offset).Abs() >= time.Second {
		c.offset = off
	}
	c.known = true
	c.mu.Unlock()
}

// Now is the platform's clock as estimated from the last answers; the
// workstation's clock until an answer carried a Date.
func (c *Caller) Now() time.Time {
	off, _ := c.ClockOffset()
	return c.clock.local().Add(off)
}

// ClockOffset is how far the platform's clock is ahead of the
// workstation's (negative: behind), and whether any answer told it yet.
func (c *Caller) ClockOffset() (time.Duration, bool) {
	c.clock.mu.Lock()
	defer c.clock.mu.Unlock()
	return c.clock.offset, c.clock.known
}

type budgetKey struct{}

// callBudget is when a call's budget for starting attempts ends, and how
// its last failed attempt ended. A nil *callBudget is a call without one.
type callBudget struct {
	end  time.Time
	mu   sync.Mutex
	last error
}

type answerWithinKey struct{}

// WithAnswerWithin lets each attempt of the calls made with ctx wait up to d
// (when longer than Options.FirstByteTimeout) for the answer's headers, for
// a request whose work grows with the organization. Terminate-all of a
// million sessions takes the platform 15-30 s: the default 10 s cut every
// attempt, the retries too, and the platform rolled each back, so it could
// never succeed from the app.
func WithAnswerWithin(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, answerWithinKey{}, d)
}

type onceKey struct{}

// Once makes the calls made with ctx a single attempt each: no retry after
// a refused connection, a time limit, a 5xx or a 429, whatever the call's
// policy. For a question whose answer only decides between two good ways
// on, where a quick "no" is worth more than a late "yes": resuming a
// profile asks /me once and opens offline from the cache when the platform
// does not answer, instead of retrying a refused port for ~3.3 s while the
// window stays empty (the sync then reconnects on its own schedule). The
// attempt keeps its time limits (Options.FirstByteTimeout and IdleTimeout).
func Once(ctx context.Context) context.Context {
	return context.WithValue(ctx, onceKey{}, true)
}

func isOnce(ctx context.Context) bool {
	once, _ := ctx.Value(onceKey{}).(bool)
	return once
}

// withBudget records when the call's budget for starting attempts ends.
func withBudget(ctx context.Context, end time.Time) context.Context {
	return context.WithValue(ctx, budgetKey{}, &callBudget{end: end})
}

func budgetFrom(ctx context.Context) *callBudget {
	b, _ := ctx.Value(budgetKey{}).(*callBudget)
	return b
}

func budgetOf(ctx context.Context) (time.Time, bool) {
	if b := budgetFrom(ctx); b != nil {
		return b.end, true
	}
	return time.Time{}, false
}

func budgetSpent(ctx context.Context) bool { return budgetFrom(ctx).spent() }

func (b *callBudget) spent() bool { return b != nil && !time.Now().Before(b.end) }

func (b *callBudget) note(err error) {
	if b == nil || errors.Is(err, errBudgetSpent) {
		return
	}
	b.mu.Lock()
	b.last = err
	b.mu.Unlock()
}

// spentError is errBudgetSpent with the last attempt's end in words (not
// wrapped: the call failed on its budget, whatever that attempt was).
func (b *callBudget) spentError() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last == nil {
		return errBudgetSpent
	}
	return fmt.Errorf("%w; the last attempt: %s", errBudgetSpent, b.last.Error())
}

// CloseIdleConnections passes Client.CloseIdleConnections on to the pool.
func (t *attemptTransport) CloseIdleConnections() {
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// SeedClockOffset sets the offset to assume until an answer tells it (an
// offline start remembers the last one measured); an answer's Date then
// replaces it.
func (c *Caller) SeedClockOffset(d time.Duration) {
	c.clock.mu.Lock()
	defer c.clock.mu.Unlock()
	if !c.clock.known {
		c.clock.offset = d
	}
}
