// Package devdebug serves the Go runtime's profiles and heap figures of a
// dev build of the app on a loopback address, so that the bench
// (frontend/bench/ui.mjs) can report the Go heap beside the process's RSS
// and time the app's own window (SetWindow), and a developer can profile
// the running app:
//
//	go tool pprof -sample_index=inuse_space http://127.0.0.1:PORT/debug/pprof/heap
//
// In the app only files built with the `dev` tag import it (main's
// debug_dev.go), so its production binaries carry neither it nor
// net/http/pprof; a test in the root package holds that (platformd uses
// AddPprof for its own --pprof listener). The profiles show the program's insides to
// whoever can connect, hence loopback only.
package devdebug

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// EnvAddr names the environment variable that turns the server on.
const EnvAddr = "SESSIONDESK_DEBUG_ADDR"

// CheckLoopback accepts host:port only when host is a loopback IP
// (127.0.0.0/8 or ::1): a name could resolve anywhere, and any other
// address would open the profiles to the network.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("debug address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("debug address %q: only a loopback IP (127.0.0.1, ::1) is accepted", addr)
	}
	return nil
}

// Heap is what /debug/heap.json answers, in bytes, from runtime/metrics.
type Heap struct {
	// LiveBytes: heap objects marked live by the last GC (with ?gc=1, a GC
	// run just before), the figure that says what the program holds.
	LiveBytes uint64 `json:"liveBytes"`
	// ObjectsBytes: heap objects now, live or not yet swept.
	ObjectsBytes uint64 `json:"objectsBytes"`
	// HeapInUseBytes: heap spans in use (objects plus fragmentation), the
	// Go heap's share of the RSS.
	HeapInUseBytes uint64 `json:"heapInUseBytes"`
	// TotalBytes: all memory the Go runtime has mapped (heap, stacks,
	// metadata), released or not; RSS beyond it is C's (GTK, WebKit, SQLite).
	TotalBytes uint64 `json:"totalBytes"`
	// ReleasedBytes: mapped by Go but returned to the OS (not in the RSS).
	ReleasedBytes uint64 `json:"releasedBytes"`
	GCCycles      uint64 `json:"gcCycles"`
}

var heapMetrics = []string{
	"/gc/heap/live:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
	"/gc/cycles/total:gc-cycles",
}

// ReadHeap reads the heap figures now.
func ReadHeap() Heap {
	s := make([]metrics.Sample, len(heapMetrics))
	for i, name := range heapMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	v := func(i int) uint64 {
		if s[i].Value.Kind() != metrics.KindUint64 {
			return 0 // a metric this Go version does not have
		}
		return s[i].Value.Uint64()
	}
	return Heap{
		LiveBytes:      v(0),
		ObjectsBytes:   v(1),
		HeapInUseBytes: v(1) + v(2),
		TotalBytes:     v(3),
		ReleasedBytes:  v(4),
		GCCycles:       v(5),
	}
}

// AddPprof adds net/http/pprof's routes under /debug/pprof/ to mux: the
// one list of them, for this package's server and platformd's --pprof.
func AddPprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}

// An Evaluator runs a JavaScript function body in the app's window and
// returns the JSON of what it returns (a dev build's main sets one once
// the window exists, SetWindow).
type Evaluator func(ctx context.Context, body string) (json string, err error)

var window atomic.Pointer[Evaluator]

// SetWindow makes POST /debug/window/eval run its request body in the
// app's window through ev. It lets the bench time the app's own window
// (WebKitGTK), which no browser driver reaches, with the probe it uses
// in Chromium (frontend/bench/ui.mjs). What it runs can do anything the
// page can, which is why it exists only in dev builds, on loopback.
func SetWindow(ev Evaluator) { window.Store(&ev) }

// maxEval bounds a script sent to the window.
const maxEval = 64 << 10

// Handler serves /debug/pprof/, /debug/heap.json and /debug/window/eval.
func Handler() http.Handler {
	mux := http.NewServeMux()
	AddPprof(mux)
	mux.HandleFunc("POST /debug/window/eval", func(w http.ResponseWriter, r *http.Request) {
		ev := window.Load()
		if ev == nil {
			http.Error(w, "no window yet", http.StatusServiceUnavailable)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxEval))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		out, err := (*ev)(ctx, string(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, out)
	})
	mux.HandleFunc("GET /debug/heap.json", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") == "1" {
			runtime.GC() // so that LiveBytes is the heap held now
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(ReadHeap())
	})
	return mux
}

// Serve listens on addr (refused unless loopback) and serves Handler
// until stop is called.
func Serve(addr string, log *slog.Logger) (stop func(), err error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug server: %w", err)
	}
	// No WriteTimeout: a CPU profile or trace streams for as long as asked.
	srv := &http.Server{Handler: Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("debug server", "err", err)
		}
	}()
	log.Info("debug server (pprof, heap.json) on loopback", "addr", l.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
