// Package httpx is the HTTP machinery every provider's client goes through
// (Caller): the transport with its two time limits and optional CA file,
// the retry policy and backoff, the call budget, the estimate of the
// server's clock, and the app's error kinds for a call that got no answer.
// platformd's client (app/provider/platformd) and Kratos' admin client
// (app/kratos) share it instead of each keeping a copy. It knows no wire
// contract: a client encodes its requests and reads its answers itself.
//
// Retry policy. Idempotent calls are retried on connection errors, time
// limits, an answer whose body broke off half way, 5xx (except 501) and
// 429, with exponential backoff and jitter; a Retry-After header on 429/503
// is honoured, and when it points past the call's time budget the call
// gives up at once instead of sleeping into a certain timeout (the client
// then reports the wait, see RetryAfter). A call that is not idempotent
// (a sign-in: every success creates a session) is retried only when the
// connection was refused, which proves the request never reached the
// server. Other 4xx answers are final. A context from Once makes its calls
// one attempt each, whatever their policy.
//
// Time limits tell a dead link from a slow one. Each attempt must see the
// answer's headers within FirstByteTimeout (connecting included), and then
// its body must never stall for longer than IdleTimeout; a body that keeps
// arriving, however slowly, is never cut. The whole body is read inside the
// attempt, so a connection reset in the middle of it is retried like any
// other failed attempt. CallTimeout is the budget for starting attempts and
// waiting between them: no attempt starts after it, so a hanging server
// costs about CallTimeout + FirstByteTimeout. Cancelling the caller's context
// stops the call and its waits immediately.
//
// The server's clock. Every answer's Date header updates the estimate of
// the server's clock (Now, ClockOffset); the app computes anything
// time-dependent (expiry, retention) on that clock, not on the
// workstation's, which may be hours or days off.
//
// Errors. A server that cannot be reached (connection error, time budget
// spent) becomes *domain.UnreachableError, which the app treats as offline;
// a refused certificate *domain.CertificateError. Any HTTP status is an
// answer, for the client to read.
//
// Logging. Requests are logged through the injected slog.Logger with method,
// path, attempt and status only: never headers (the Authorization header
// carries the credential), query strings (search terms may be e-mail
// addresses) or bodies (sign-in carries the password).
package httpx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"sessiondesk/app/domain"
)

// Options tune a Caller. Zero values take the defaults below.
type Options struct {
	CallTimeout      time.Duration // budget for starting attempts and waiting between them (default 30s)
	FirstByteTimeout time.Duration // per attempt: connect, send, and receive the headers (default 10s)
	IdleTimeout      time.Duration // per attempt: longest stall while the body arrives (default 10s)
	RetryMax         int           // retries after the first attempt (default 4)
	RetryWaitMin     time.Duration // first backoff (default 250ms)
	RetryWaitMax     time.Duration // backoff cap when no Retry-After is given (default 5s)
	Log              *slog.Logger  // default: discard
	UserAgent        string        // default DefaultUserAgent()
	Transport        http.RoundTripper
	// Clock is the workstation's clock (default time.Now); the platform's
	// is estimated from it and the answers' Date headers.
	Clock func() time.Time
	// CAFile is a PEM file of certificate authorities trusted besides the
	// system's (an organization's internal CA); "" trusts the system's only.
	CAFile string
}

// Defaults used when Options leaves a field zero.
const (
	DefaultCallTimeout      = 30 * time.Second
	DefaultFirstByteTimeout = 10 * time.Second
	DefaultIdleTimeout      = 10 * time.Second
	DefaultRetryMax         = 4
	DefaultRetryWaitMin     = 250 * time.Millisecond
	DefaultRetryWaitMax     = 5 * time.Second
)

// MaxResponseBytes bounds what a call reads of one answer. A page of
// 1,000 sessions is well under 2 MiB.
const MaxResponseBytes = 32 << 20

// Caller is the HTTP machinery behind every call of a provider's client
// (see the package comment). Clients derived from one (a credential added)
// share it: its connections, its budget policy and its clock estimate. It
// is safe for concurrent use.
type Caller struct {
	name  string // "platform": the prefix of its log lines and errors
	rc    *retryablehttp.Client
	opts  Options
	log   *slog.Logger
	clock *serverClock
}

// retryPolicy says how far a request may be retried; it travels in the
// request context so that the one retryablehttp.Client serves every call.
type retryPolicy int

const (
	retryIdempotent  retryPolicy = iota // connection errors, timeouts, 5xx, 429
	retryRefusedOnly                    // only "connection refused": nothing was sent
)

type policyKey struct{}

// Positive is d, or def when d is not above zero: a duration option left
// unset (or set to nonsense) takes its default.
func Positive(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// NewCaller builds the machinery of a client (see Caller); name prefixes its
// log lines ("<name> request") and its errors. Zero Options take the
// package's defaults.
func NewCaller(name string, opts Options) (*Caller, error) {
	var err error
	opts.CallTimeout = Positive(opts.CallTimeout, DefaultCallTimeout)
	opts.FirstByteTimeout = Positive(opts.FirstByteTimeout, DefaultFirstByteTimeout)
	opts.IdleTimeout = Positive(opts.IdleTimeout, DefaultIdleTimeout)
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.RetryMax == 0 {
		opts.RetryMax = DefaultRetryMax
	}
	if opts.RetryMax < 0 {
		opts.RetryMax = 0
	}
	opts.RetryWaitMin = Positive(opts.RetryWaitMin, DefaultRetryWaitMin)
	opts.RetryWaitMax = Positive(opts.RetryWaitMax, DefaultRetryWaitMax)
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent("1.0")
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	transport := opts.Transport
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 4
		transport = t
	}
	if opts.CAFile != "" {
		if transport, err = trustCAFile(transport, opts.CAFile); err != nil {
			return nil, err
		}
	}
	c := &Caller{name: name, opts: opts, log: log, clock: &serverClock{local: opts.Clock}}
	c.rc = &retryablehttp.Client{
		HTTPClient: &http.Client{
			// No whole-request Timeout: it would cut a slow but live
			// body. attemptTransport enforces the two limits instead.
			Transport: &attemptTransport{base: transport, firstByte: opts.FirstByteTimeout, idle: opts.IdleTimeout, clock: c.clock},
			// The API never redirects; following one could carry the
			// Authorization header somewhere unexpected.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		Logger:          nil, // its default logger prints URLs with queries; we log in the hooks
		RetryWaitMin:    opts.RetryWaitMin,
		RetryWaitMax:    opts.RetryWaitMax,
		RetryMax:        opts.RetryMax,
		CheckRetry:      checkRetry,
		Backoff:         Backoff,
		ErrorHandler:    retryablehttp.PassthroughErrorHandler,
		RequestLogHook:  c.logRequest,
		ResponseLogHook: c.logResponse,
	}
	return c, nil
}

// DefaultUserAgent names the app and this computer's OS the way the
// platform recognizes ("SessionsDesk/1.0 (Linux x86_64)"), so that the app's
// own sessions read "Sessions Desk 1 on Linux" in everyone's list.
func DefaultUserAgent(version string) string {
	osName := map[string]string{"linux": "Linux", "darwin": "Macintosh; Mac OS X", "windows": "Windows NT 10.0"}[runtime.GOOS]
	if osName == "" {
		osName = runtime.GOOS
	}
	arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	if arch == "" {
		arch = runtime.GOARCH
	}
	return "SessionsDesk/" + version + " (" + osName + " " + arch + ")"
}

// ParseServerURL checks that s is an absolute https URL without query,
// fragment or credentials, and returns it without a trailing slash. Plain
// http is accepted only for a loopback host (localhost, 127.0.0.0/8, ::1):
// sign-in sends the password and every call the token, which must not cross
// a network in clear text.
func ParseServerURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, &domain.Error{Kind: domain.KindInvalid, Reason: domain.ReasonAddressShape}
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, &domain.Error{Kind: domain.KindInvalid, Reason: domain.ReasonAddressParts}
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return nil, &domain.Error{Kind: domain.KindInvalid, Reason: domain.ReasonAddressPlainHTTP}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// isLoopback reports whether host names this computer only: localhost or a
// loopback address (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// CloseIdleConnections closes the idle keep-alive connections of the
// client's transport (shared with every client derived by WithToken). Call
// it when the client is put away: each New clones its own transport, whose
// idle connections would otherwise stay open until the platform drops them.
func (c *Caller) CloseIdleConnections() { c.rc.HTTPClient.CloseIdleConnections() }

func (c *Caller) logRequest(_ retryablehttp.Logger, req *http.Request, attempt int) {
	if attempt == 0 {
		c.log.Debug(c.name+" request", "method", req.Method, "path", req.URL.Path)
		return
	}
	c.log.Info(c.name+" request retry", "method", req.Method, "path", req.URL.Path, "attempt", attempt+1)
}

func (c *Caller) logResponse(_ retryablehttp.Logger, resp *http.Response) {
	lvl := slog.LevelDebug
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		lvl = slog.LevelWarn
	}
	c.log.Log(context.Background(), lvl, c.name+" response", "method", resp.Request.Method, "path", resp.Request.URL.Path, "status", resp.StatusCode)
}

// checkRetry is the retryablehttp.CheckRetry of every call. It returns no
// error of its own (except the context's) so that the last answer or
// transport error reaches the caller unchanged.
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if isOnce(ctx) {
		return false, nil
	}
	policy, _ := ctx.Value(policyKey{}).(retryPolicy)
	if err != nil {
		if errors.Is(err, errBudgetSpent) || budgetSpent(ctx) {
			return false, nil
		}
		if policy == retryRefusedOnly {
			return isConnRefused(err), nil
		}
		ok, _ := retryablehttp.DefaultRetryPolicy(ctx, nil, err)
		return ok, nil
	}
	if policy == retryRefusedOnly || budgetSpent(ctx) {
		return false, nil
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusServiceUnavailable:
		// Waiting past the budget only to time out would hide the server's
		// real answer ("rate_limited"); give it to the caller now.
		if wait, ok := RetryAfter(resp); ok {
			if dl, has := budgetOf(ctx); has && time.Until(dl) < wait {
				return false, nil
			}
			if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
				return false, nil
			}
		}
		return true, nil
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		return true, nil
	}
	return false, nil
}

// Backoff is the retryablehttp.Backoff of every call: Retry-After when the
// server gives one on 429/503, else exponential from min, capped at max, with
// "equal jitter" (a random point in the upper half) so that many clients
// coming back from one outage do not retry in step.
func Backoff(min, max time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := RetryAfter(resp); ok {
			return d
		}
	}
	d := max
	if attempt < 30 {
		if e := min << attempt; e > 0 && e < max {
			d = e
		}
	}
	half := d / 2
	return half + rand.N(half+1)
}

// RetryAfter parses an answer's Retry-After as seconds or an HTTP date.
func RetryAfter(resp *http.Response) (time.Duration, bool) {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := time.Until(t)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

// Send sends req through the machinery (see Caller and the package comment)
// within the call's budget. idempotent says whether it may be retried after
// it may have reached the server (connection errors, time limits, 5xx, 429);
// otherwise only a refused connection is retried. The answer's body is
// already read whole (at most 32 MiB) when Send returns; the caller closes
// it. A failure without an answer is the context's error when ctx ended,
// *CertificateError, or *UnreachableError; any HTTP status is an answer.
// User-Agent defaults to Options.UserAgent.
func (c *Caller) Send(ctx context.Context, req *retryablehttp.Request, idempotent bool) (*http.Response, error) {
	policy := retryIdempotent
	if !idempotent {
		policy = retryRefusedOnly
	}
	return c.send(ctx, policy, req)
}

func (c *Caller) send(ctx context.Context, policy retryPolicy, req *retryablehttp.Request) (*http.Response, error) {
	callCtx := context.WithValue(ctx, policyKey{}, policy)
	callCtx = withBudget(callCtx, time.Now().Add(c.opts.CallTimeout))
	req = req.WithContext(callCtx)
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.opts.UserAgent)
	}
	method, path := req.Method, req.URL.Path
	resp, err := c.rc.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		if ctx.Err() != nil { // the caller gave up: not an outage
			return nil, fmt.Errorf("%s: %s %s: %w", c.name, method, path, ctx.Err())
		}
		if ce := certificateError(err); ce != nil { // not offline: a trust to fix
			return nil, ce
		}
		var be *bodyError
		return nil, &domain.UnreachableError{Err: fmt.Errorf("%s %s: %w", method, path, Scrub(err)), Answered: errors.As(err, &be)}
	}
	return resp, nil
}

// Scrub drops the URL from a *url.Error: its query may hold a search term.
func Scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// isConnRefused is true only when the server's port answered "nothing here":
// the request cannot have reached the handler, so even a non-idempotent call
// is safe to send again.
func isConnRefused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED)
}

// Log is the logger the Caller writes to (for the client's own lines).
func (c *Caller) Log() *slog.Logger { return c.log }

// Open sends req once, for a long-lived answer (a stream): without the
// retries, the call budget and the attempt's time limits (they read a whole
// body, and a stream's never ends; the client tells a dead stream from a
// quiet one itself), through the same connections, redirect rule and user
// agent. Any HTTP status is an answer; the caller closes its body. A
// failure without an answer is the context's error when ctx ended, else
// *domain.UnreachableError.
func (c *Caller) Open(ctx context.Context, req *http.Request) (*http.Response, error) {
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", c.opts.UserAgent)
	}
	rt := c.rc.HTTPClient.Transport
	if at, ok := rt.(*attemptTransport); ok {
		rt = at.base
	}
	hc := &http.Client{Transport: rt, CheckRedirect: c.rc.HTTPClient.CheckRedirect}
	c.log.Debug(c.name+" request", "method", req.Method, "path", req.URL.Path)
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: %s %s: %w", c.name, req.Method, req.URL.Path, ctx.Err())
		}
		return nil, &domain.UnreachableError{Err: fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, Scrub(err))}
	}
	return resp, nil
}
