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
}

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
	if len(r.PaintMs) == 0 || len(r.LoadMs) == 0 || len(r.KeystrokeMs) == 0 || r.GoRSSBytes == 0 {
		return nil, fmt.Errorf("ui bench measured nothing: %s", out.String())
	}
	paint, load, keys := msList(r.PaintMs), msList(r.LoadMs), msList(r.KeystrokeMs)
	return []row{
		{"ui", "data in the app → Sessions table painted (tab click), p50", ms(median(paint)), "", fmt.Sprintf("%d samples, real app in Chromium", len(paint))},
		{"ui", "page load → Sessions table painted, p50", ms(median(load)), "", fmt.Sprintf("%d samples", len(load))},
		{"ui", fmt.Sprintf("search keystroke → result painted at %d rows, p50", cfg.sessions), ms(median(keys)), "< 50 ms", fmt.Sprintf("%d keystrokes; p99 %s", len(keys), ms(quantile(keys, 0.99)))},
		{"ui", "one SessionsService.List round trip over the bindings, p50", ms(median(msList(r.ListCallMs))), "", fmt.Sprintf("%d calls", len(r.ListCallMs))},
		{"memory", "app Go process RSS, large org loaded", mib(r.GoRSSBytes), "", ""},
		{"memory", "app web view RSS (WebKit processes)", mib(r.WebRSSBytes), "", fmt.Sprintf("%d processes", r.WebProcesses)},
	}, nil
}
