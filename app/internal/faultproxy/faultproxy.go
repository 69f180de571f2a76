// Package faultproxy is a real TCP proxy, speaking HTTP/1.1 on both sides,
// that sits between the app's platform client and a real platformd on
// loopback and misbehaves the way real networks do: it cuts answers in the
// middle of their body (a TCP reset after the headers), paces every byte it
// sends back to a link speed, swallows connections without ever answering
// (a black hole), and answers in the platform's place with 429 or 503 and a
// Retry-After. Tests and the bench (sdbench's "faults" rows) share it.
//
// It reads each request off the client's connection, forwards it on its own
// connection to the target and copies the answer back through the faults,
// one request at a time per connection (keep-alive is kept on both sides), so
// that a fault hits one answer, not a byte stream whose message boundaries are
// unknown. Faults may be changed while it runs.
package faultproxy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Faults say what the proxy does to the answers whose request path Match
// accepts (nil: every path). The zero value forwards everything untouched.
type Faults struct {
	Match func(path string) bool
	// ResetRate is the share (0..1) of matched answers cut by a TCP reset
	// after their headers and about half of their body.
	ResetRate float64
	// BytesPerSec paces every answer byte sent back (all connections share
	// the link); 0 means unlimited. Applies to every path.
	BytesPerSec int
	// BlackHole accepts connections and requests and never answers them
	// (requests on connections already open included).
	BlackHole bool
	// Status, when not 0, answers the next StatusCount matched requests
	// with this status (429 or 503), a contract error body and
	// "Retry-After: RetryAfter" (in whole seconds) without forwarding them.
	Status      int
	StatusCount int
	RetryAfter  time.Duration
	// Watch, when set, hears every request forwarded to the target (whatever
	// its path) just before its answer goes back; cut says the proxy cuts
	// that answer mid-body. Tests count with it which pages a client asked
	// for and which it got. It is called before the answer is relayed, so
	// that a client's next request is never heard before this one. It runs
	// on the proxy's connection goroutines.
	Watch func(r *http.Request, cut bool)
}

// Proxy is a running fault-injecting proxy. Close stops it.
type Proxy struct {
	target string
	ln     net.Listener

	mu         sync.Mutex
	faults     Faults
	statusLeft int
	rng        *rand.Rand
	link       *pacer

	wg     sync.WaitGroup
	closed atomic.Bool
	conns  sync.Map // net.Conn → struct{}

	// Counters for tests and the bench.
	Requests atomic.Int64 // requests read from clients
	Resets   atomic.Int64 // answers cut mid-body
	Statuses atomic.Int64 // requests answered with the injected status
	Holes    atomic.Int64 // connections swallowed by the black hole
}

// Start listens on 127.0.0.1 on a free port and forwards to target
// ("127.0.0.1:PORT" or "http://127.0.0.1:PORT").
func Start(target string, f Faults) (*Proxy, error) {
	if len(target) > 7 && target[:7] == "http://" {
		target = target[7:]
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	p := &Proxy{target: target, ln: ln, rng: rand.New(rand.NewPCG(1, 2))}
	p.Set(f)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// URL is the proxy's address as a base URL ("http://127.0.0.1:PORT").
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Set replaces the faults.
func (p *Proxy) Set(f Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f
	p.statusLeft = f.StatusCount
	if f.BytesPerSec > 0 {
		p.link = newPacer(f.BytesPerSec)
	} else {
		p.link = nil
	}
}

// Seed makes the choice of which answers are reset repeatable.
func (p *Proxy) Seed(s uint64) {
	p.mu.Lock()
	p.rng = rand.New(rand.NewPCG(s, s+1))
	p.mu.Unlock()
}

// Close stops listening and closes every connection.
func (p *Proxy) Close() error {
	p.closed.Store(true)
	err := p.ln.Close()
	p.conns.Range(func(k, _ any) bool {
		k.(net.Conn).Close()
		return true
	})
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.track(c)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(c)
			p.serve(c)
		}()
	}
}

func (p *Proxy) track(c net.Conn) {
	p.conns.Store(c, struct{}{})
	if p.closed.Load() {
		c.Close()
	}
}

func (p *Proxy) untrack(c net.Conn) {
	c.Close()
	p.conns.Delete(c)
}

// decision is what happens to one request.
type decision struct {
	status     int
	retryAfter time.Duration
	reset      bool
	link       *pacer
	watch      func(*http.Request, bool)
}

func (p *Proxy) decide(path string) decision {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.faults
	d := decision{link: p.link, watch: f.Watch}
	if f.Match != nil && !f.Match(path) {
		return d
	}
	if f.Status != 0 && p.statusLeft > 0 {
		p.statusLeft--
		d.status, d.retryAfter = f.Status, f.RetryAfter
		return d
	}
	d.reset = f.ResetRate > 0 && p.rng.Float64() < f.ResetRate
	return d
}

func (p *Proxy) blackHole() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults.BlackHole
}

func (p *Proxy) serve(client net.Conn) {
	if p.blackHole() {
		// Read and drop whatever comes, answer nothing, until the client
		// gives up or the proxy closes.
		p.Holes.Add(1)
		_, _ = io.Copy(io.Discard, client)
		return
	}
	upstream, err := net.Dial("tcp", p.target)
	if err != nil {
		return // the client sees its connection closed
	}
	p.track(upstream)
	defer p.untrack(upstream)
	cr, ur := bufio.NewReader(client), bufio.NewReader(upstream)
	for {
		req, err := http.ReadRequest(cr)
		if err != nil {
			return
		}
		p.Requests.Add(1)
		if p.blackHole() {
			p.Holes.Add(1)
			_, _ = io.Copy(io.Discard, cr)
			return
		}
		d := p.decide(req.URL.Path)
		if d.status != 0 {
			io.Copy(io.Discard, req.Body)
			req.Body.Close()
			p.Statuses.Add(1)
			if err := writeStatus(client, d.status, d.retryAfter); err != nil {
				return
			}
			continue
		}
		if err := req.Write(upstream); err != nil {
			return
		}
		resp, err := http.ReadResponse(ur, req)
		if err != nil {
			return
		}
		if d.watch != nil {
			d.watch(req, d.reset)
		}
		err = p.relay(client, resp, d)
		resp.Body.Close()
		if err != nil || resp.Close {
			return
		}
	}
}

// relay writes resp to the client through the faults. A reset answer sends
// its headers and about half of its body, then the connection is reset.
func (p *Proxy) relay(client net.Conn, resp *http.Response, d decision) error {
	var w io.Writer = client
	if d.link != nil {
		w = &pacedWriter{w: client, p: d.link}
	}
	if !d.reset {
		bw := bufio.NewWriterSize(w, 32<<10)
		if err := resp.Write(bw); err != nil {
			return err
		}
		return bw.Flush()
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(&cutReader{data: body, cut: len(body) / 2})
	resp.ContentLength = int64(len(body))
	resp.TransferEncoding = nil
	bw := bufio.NewWriterSize(w, 32<<10)
	_ = resp.Write(bw) // fails at the cut, by design
	_ = bw.Flush()
	p.Resets.Add(1)
	if tc, ok := client.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close sends RST, not FIN
	}
	client.Close()
	return errCut
}

var errCut = errors.New("faultproxy: answer cut")

// cutReader yields data[:cut] and then fails.
type cutReader struct {
	data []byte
	cut  int
	off  int
}

func (r *cutReader) Read(b []byte) (int, error) {
	if r.off >= r.cut {
		return 0, errCut
	}
	n := copy(b, r.data[r.off:r.cut])
	r.off += n
	return n, nil
}

func writeStatus(w io.Writer, status int, retryAfter time.Duration) error {
	code := "rate_limited"
	if status == http.StatusServiceUnavailable {
		code = "unavailable"
	}
	body := fmt.Sprintf(`{"error":{"code":%q,"message":"injected by faultproxy"}}`, code)
	secs := int(retryAfter / time.Second)
	_, err := fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nRetry-After: %s\r\nContent-Length: %d\r\nDate: %s\r\n\r\n%s",
		status, http.StatusText(status), strconv.Itoa(secs), len(body), time.Now().UTC().Format(http.TimeFormat), body)
	return err
}

// pacer is a link of a fixed speed shared by every connection: each write
// books its bytes on the link's timeline and sleeps until they would have
// gone out.
type pacer struct {
	bps  int
	mu   sync.Mutex
	next time.Time
}

func newPacer(bps int) *pacer { return &pacer{bps: bps} }

func (p *pacer) wait(n int) {
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	p.next = p.next.Add(time.Duration(n) * time.Second / time.Duration(p.bps))
	until := p.next
	p.mu.Unlock()
	time.Sleep(time.Until(until))
}

// pacedWriter sends in small slices so that the bytes trickle out at the
// link's speed instead of in bursts a whole buffer long.
type pacedWriter struct {
	w io.Writer
	p *pacer
}

func (w *pacedWriter) Write(b []byte) (int, error) {
	chunk := max(w.p.bps/20, 512) // about 50 ms of link per slice
	n := 0
	for len(b) > 0 {
		c := min(chunk, len(b))
		w.p.wait(c)
		m, err := w.w.Write(b[:c])
		n += m
		if err != nil {
			return n, err
		}
		b = b[c:]
	}
	return n, nil
}
