package devdebug

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

func TestCheckLoopbackRefusesAnythingElse(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:6060", "127.0.0.2:0", "[::1]:6060"} {
		if err := CheckLoopback(ok); err != nil {
			t.Errorf("CheckLoopback(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"0.0.0.0:6060", ":6060", "[::]:6060", "localhost:6060", "10.0.0.1:6060", "192.168.1.2:80", "127.0.0.1", "example.org:80"} {
		if err := CheckLoopback(bad); err == nil {
			t.Errorf("CheckLoopback(%q) accepted it", bad)
		}
	}
	if _, err := Serve("0.0.0.0:0", slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("Serve listened on every interface")
	}
}

// The live heap follows what the program holds: 64 MiB kept alive shows.
func TestHeapJSONReportsTheLiveHeap(t *testing.T) {
	stop, addr := serve(t)
	defer stop()
	before := getHeap(t, addr)
	held := make([]byte, 64<<20)
	for i := range held {
		held[i] = byte(i)
	}
	after := getHeap(t, addr)
	if after.LiveBytes < before.LiveBytes+60<<20 {
		t.Fatalf("live heap %d → %d bytes while holding 64 MiB", before.LiveBytes, after.LiveBytes)
	}
	if after.HeapInUseBytes < after.LiveBytes || after.TotalBytes < after.HeapInUseBytes || after.GCCycles <= before.GCCycles {
		t.Fatalf("inconsistent figures: %+v", after)
	}
	runtime.KeepAlive(held)
}

func TestServesTheProfiles(t *testing.T) {
	stop, addr := serve(t)
	defer stop()
	res, err := http.Get("http://" + addr + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(b), "heap profile") {
		t.Fatalf("heap profile: %d %.200s", res.StatusCode, b)
	}
}

func serve(t *testing.T) (func(), string) {
	t.Helper()
	// Port 0 would hide the address Serve chose; take a free one first.
	l, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	stop, err := Serve(addr, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return stop, addr
}

func getHeap(t *testing.T, addr string) Heap {
	t.Helper()
	res, err := http.Get("http://" + addr + "/debug/heap.json?gc=1")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var h Heap
	if err := json.NewDecoder(res.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// /debug/window/eval answers 503 until a window is set, then passes the
// body to it and its answer back; a GET, or a body over 64 KiB, is refused.
// (The evaluator here stands in for the window; the bench's UI part runs
// the real one, debug_dev.go's attachWindow, in the WebKitGTK window.)
func TestWindowEvalPassesTheScriptThrough(t *testing.T) {
	stop, addr := serve(t)
	defer stop()
	post := func(body string) (int, string) {
		res, err := http.Post("http://"+addr+"/debug/window/eval", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	window.Store(nil)
	if code, _ := post("return 1"); code != http.StatusServiceUnavailable {
		t.Fatalf("no window: %d, want 503", code)
	}
	var got string
	SetWindow(func(_ context.Context, body string) (string, error) {
		got = body
		return `{"ok":true,"value":1}`, nil
	})
	defer window.Store(nil)
	if code, out := post("return 1"); code != 200 || out != `{"ok":true,"value":1}` || got != "return 1" {
		t.Fatalf("eval: %d %q, the window got %q", code, out, got)
	}
	if code, _ := post(strings.Repeat("x", maxEval+1)); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("a body over the limit: %d, want 413", code)
	}
	res, err := http.Get("http://" + addr + "/debug/window/eval")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d, want 405", res.StatusCode)
	}
}
