package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"time"
)

// uiResult is what frontend/bench/ui.mjs prints.
type uiResult struct {
	PaintMs      []float64 `json:"paintMs"`
	LoadMs       []float64 `json:"loadMs"`
	KeystrokeMs  []float64 `json:"keystrokeMs"`
	GoRSSBytes   int64     `json:"goRssBytes"`
	WebRSSBytes  int64     `json:"webRssBytes"`
	WebProcesses int       `json:"webProcesses"`
	ListCallMs   []float64 `json:"listCallMs"`
	// The same search typed into the app's own window (WebKitGTK).
	WindowKeystrokeMs []float64 `json:"windowKeystrokeMs"`
	WindowListCallMs  []float64 `json:"windowListCallMs"`
	// GoHeap is internal/devdebug's heap.json, read after a forced GC.
	GoHeap struct {
		LiveBytes      int64 `json:"liveBytes"`
		HeapInUseBytes int64 `json:"heapInUseBytes"`
		TotalBytes     int64 `json:"totalBytes"`
	} `json:"goHeap"`
	JSHeapBytes int64 `json:"jsHeapBytes"`
}

// goRSSTarget is issue 20's target for the app's Go process at each size
// the bench is run at ("" between them).
func goRSSTarget(sessions int) string {
	switch sessions {
	case 2000:
		return "< 80 MiB"
	case 100_000:
		return "< 150 MiB"
	case 1_000_000:
		return "< 400 MiB"
	}
	return ""
}

// mib1 is mib with a decimal, for heaps a few MiB in size.
func mib1(bytes int64) string { return fmt.Sprintf("%.1f MiB", float64(bytes)/(1<<20)) }

func msList(xs []float64) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = time.Duration(x * float64(time.Millisecond))
	}
	return out
}

// benchUI drives the real dev app (under Xvfb, in Chromium, through the
// Wails bindings) signed in to the running platform: the Sessions table's
// first paint once its data is in the app, one search keystroke at the full
// size, and the memory of the app with the large organization loaded.
func benchUI(ctx context.Context, cfg config, p *platformProc) ([]row, error) {
	cmd := exec.CommandContext(ctx, "node", cfg.ui)
	cmd.Env = append(os.Environ(),
		"PLATFORM_URL="+p.URL,
		"ORG="+cfg.slug,
		fmt.Sprintf("EXPECT_SESSIONS=%d", cfg.sessions),
		fmt.Sprintf("SAMPLES=%d", max(5, min(cfg.samples, 20))),
		"SESSIONDESK_DEV_BINARY="+cfg.appBinary,
	)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("ui bench: %w", err)
	}
	var r uiResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("ui bench output %q: %w", out.String(), err)
	}
	if len(r.PaintMs) == 0 || len(r.LoadMs) == 0 || len(r.KeystrokeMs) == 0 || len(r.WindowKeystrokeMs) == 0 || r.GoRSSBytes == 0 || r.GoHeap.HeapInUseBytes == 0 || r.JSHeapBytes == 0 {
		return nil, fmt.Errorf("ui bench measured nothing: %s", out.String())
	}
	paint, load, keys, winKeys := msList(r.PaintMs), msList(r.LoadMs), msList(r.KeystrokeMs), msList(r.WindowKeystrokeMs)
	return []row{
		{"ui", "data in the app → Sessions table painted (tab click), p50", ms(median(paint)), "", fmt.Sprintf("%d samples, real app in Chromium", len(paint))},
		{"ui", "page load → Sessions table painted, p50", ms(median(load)), "", fmt.Sprintf("%d samples", len(load))},
		{"ui", fmt.Sprintf("search keystroke → result painted at %d rows, p50", cfg.sessions), ms(median(keys)), "< 50 ms", fmt.Sprintf("%d keystrokes; p99 %s", len(keys), ms(quantile(keys, 0.99)))},
		{"ui", "one SessionsService.List round trip over the bindings, p50", ms(median(msList(r.ListCallMs))), "", fmt.Sprintf("%d calls", len(r.ListCallMs))},
		{"ui", fmt.Sprintf("… the same in the app's own window (WebKitGTK): keystroke → painted at %d rows, p50", cfg.sessions), ms(median(winKeys)), "< 50 ms",
			fmt.Sprintf("%d keystrokes (xdotool); p99 %s; List round trip p50 %s", len(winKeys), ms(quantile(winKeys, 0.99)), ms(median(msList(r.WindowListCallMs))))},
		{"memory", fmt.Sprintf("app Go process RSS, %d sessions loaded", cfg.sessions), mib(r.GoRSSBytes), goRSSTarget(cfg.sessions), "VmRSS, GTK/WebKit's UI side included"},
		{"memory", "… of which the Go heap in use after a GC (live objects)", fmt.Sprintf("%s (%s)", mib1(r.GoHeap.HeapInUseBytes), mib1(r.GoHeap.LiveBytes)), "",
			fmt.Sprintf("runtime/metrics; all the Go runtime maps: %s", mib1(r.GoHeap.TotalBytes))},
		{"memory", "app web view RSS (WebKit processes)", mib(r.WebRSSBytes), "< 250 MiB", fmt.Sprintf("%d processes", r.WebProcesses)},
		{"memory", "page JS heap after a GC", mib1(r.JSHeapBytes), "", "Chromium's page on the same frontend (CDP), not WebKit's"},
	}, nil
}
