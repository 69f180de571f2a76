package devdebug

import (
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
