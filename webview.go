package main

import (
	"os"
	"path/filepath"
	"strings"
)

// webViewDefaults sets, unless the user has set them, how GTK and the web
// view run. It must run before the window starts: GTK reads its variables
// when it opens the display, WebKit reads its own when it builds the web
// view, and the web view's processes inherit the environment.
//
// JavaScriptCore runs without its optimizing DFG tier (and so without FTL
// above it). The page does little JavaScript per keystroke, because the Go
// side searches and sorts. The tier's compiler, and what it compiles, cost
// the web process ~6 MiB. At 100,000 sessions the web view measured
// 248-249 MiB without it and 254-255 MiB with it. A keystroke typed into
// the app's own window painted its result in the same time either way: p50
// 41-43 ms against 41-42 ms (docs/bench.md).
//
// On X11, the app's own process also stays off OpenGL. The window never
// draws with it (WebviewGpuPolicyNever in main.go). Even so, three things
// each opened an EGL or GLX display in the app's process:
//   - GTK's GLX probe when it opens the display;
//   - WebKit's check of its DMA-BUF renderer;
//   - WebKit's lookup of the GPU to name to its web process.
//
// Opening such a display loads Mesa's driver, which on Debian 12 links all
// of libLLVM. That cost ~53 MiB of the process's RSS: 44 MiB of it is
// libLLVM, most of it pages touched while the library is loaded.
//
// The three settings below turn those three off, in that order: GDK_GL,
// WEBKIT_DISABLE_DMABUF_RENDERER, WEBKIT_WEB_RENDER_DEVICE_FILE. WebKit's
// web process keeps its own EGL display: it will not start without one.
//
// Measured with `ui.mjs`, two runs each:
//
//	| sessions | app RSS before | app RSS after  |
//	|----------|----------------|----------------|
//	| 2,000    | 174 MiB        | 118-122 MiB    |
//	| 100,000  | 204 MiB        | 149-150 MiB    |
//
// The window painted the same, and typed as fast.
//
// Wayland is left alone. There GTK and WebKit hand frames over through
// EGL, and this was measured only on X11.
func webViewDefaults() {
	setDefault("JSC_useDFGJIT", "false")
	if !gtkOnX11() {
		return
	}
	setDefault("GDK_GL", "disable")
	setDefault("WEBKIT_DISABLE_DMABUF_RENDERER", "1")
	setDefault("WEBKIT_WEB_RENDER_DEVICE_FILE", renderNode())
}

func setDefault(name, value string) {
	if _, set := os.LookupEnv(name); !set {
		os.Setenv(name, value)
	}
}

// gtkOnX11 reports whether GTK will open an X11 display. A GDK_BACKEND
// whose first entry is x11 says so. Otherwise GTK tries Wayland first
// (WAYLAND_DISPLAY, or the default socket wayland-0 in XDG_RUNTIME_DIR),
// and falls back to DISPLAY.
func gtkOnX11() bool {
	if b := os.Getenv("GDK_BACKEND"); b != "" {
		first, _, _ := strings.Cut(b, ",")
		return strings.TrimSpace(first) == "x11"
	}
	if os.Getenv("WAYLAND_DISPLAY") != "" {
		return false
	}
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" {
		if _, err := os.Stat(filepath.Join(rt, "wayland-0")); err == nil {
			return false
		}
	}
	return os.Getenv("DISPLAY") != ""
}

// renderNode names the GPU that WebKit would otherwise have asked EGL
// for: the first DRM render node. A machine without one gets the name the
// first node would have. The web process would open the device to render
// on the GPU, which the window does not do (WebviewGpuPolicyNever), or to
// hand frames over in GPU buffers, which the DMA-BUF setting above turns
// off. The bench's machine has no /dev/dri at all, and its window painted
// as before.
func renderNode() string {
	nodes, _ := filepath.Glob("/dev/dri/renderD*")
	if len(nodes) > 0 {
		return nodes[0] // Glob sorts: renderD128 first
	}
	return "/dev/dri/renderD128"
}
