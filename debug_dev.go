//go:build dev

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"

	wruntime "github.com/wailsapp/wails/v2/pkg/runtime"

	"sessiondesk/internal/devdebug"
)

// startDebug serves the Go profiles and heap figures on the loopback
// address in $SESSIONDESK_DEBUG_ADDR, in dev builds only (the bench reads
// the Go heap there; see docs/bench.md). A non-loopback address stops the
// app rather than be ignored.
func startDebug(log *slog.Logger) (stop func(), err error) {
	addr := os.Getenv(devdebug.EnvAddr)
	if addr == "" {
		return func() {}, nil
	}
	return devdebug.Serve(addr, log)
}

// attachWindow lets the debug server run JavaScript in the window
// (devdebug.SetWindow): the body runs as an async function, and what it
// returns (or throws) comes back as {"ok":…,"value":…} or
// {"ok":false,"error":…} through a Wails event from the page.
func attachWindow(ctx context.Context) {
	var seq atomic.Uint64
	devdebug.SetWindow(func(rctx context.Context, body string) (string, error) {
		name := fmt.Sprintf("devdebug:eval:%d", seq.Add(1))
		got := make(chan string, 1)
		off := wruntime.EventsOnce(ctx, name, func(data ...any) {
			if len(data) > 0 {
				s, _ := data[0].(string)
				got <- s
			}
		})
		defer off()
		wruntime.WindowExecJS(ctx, fmt.Sprintf(`(async () => {
  let r;
  try { r = { ok: true, value: await (async () => { %s })() }; }
  catch (e) { r = { ok: false, error: String(e) }; }
  window.runtime.EventsEmit(%q, JSON.stringify(r));
})();`, body, name))
		select {
		case s := <-got:
			return s, nil
		case <-rctx.Done():
			return "", fmt.Errorf("window did not answer: %w", rctx.Err())
		}
	})
}
