package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// webViewVars are the variables webViewDefaults sets or reads.
var webViewVars = []string{
	"JSC_useDFGJIT", "GDK_GL", "WEBKIT_DISABLE_DMABUF_RENDERER", "WEBKIT_WEB_RENDER_DEVICE_FILE",
	"GDK_BACKEND", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "DISPLAY",
}

// withEnv leaves exactly env set of webViewVars for the rest of the test;
// t.Setenv puts the caller's values back afterwards.
func withEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range webViewVars {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	for k, v := range env {
		os.Setenv(k, v)
	}
}

func TestWebViewDefaults(t *testing.T) {
	offGL := []string{"GDK_GL", "WEBKIT_DISABLE_DMABUF_RENDERER", "WEBKIT_WEB_RENDER_DEVICE_FILE"}
	withWayland0 := t.TempDir()
	if err := os.WriteFile(filepath.Join(withWayland0, "wayland-0"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		x11  bool
	}{
		{"X11", map[string]string{"DISPLAY": ":0", "XDG_RUNTIME_DIR": t.TempDir()}, true},
		{"Wayland", map[string]string{"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-1"}, false},
		{"Wayland's default socket", map[string]string{"DISPLAY": ":0", "XDG_RUNTIME_DIR": withWayland0}, false},
		{"GDK_BACKEND=x11 on Wayland", map[string]string{"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-1", "GDK_BACKEND": "x11,wayland"}, true},
		{"GDK_BACKEND=wayland", map[string]string{"DISPLAY": ":0", "GDK_BACKEND": "wayland,x11"}, false},
		{"no display", map[string]string{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withEnv(t, tc.env)
			webViewDefaults()
			if got := os.Getenv("JSC_useDFGJIT"); got != "false" {
				t.Errorf("JSC_useDFGJIT=%q, want false", got)
			}
			for _, k := range offGL {
				v, set := os.LookupEnv(k)
				if set != tc.x11 {
					t.Errorf("%s set=%v (%q), want set only on X11 (%v)", k, set, v, tc.x11)
				}
			}
			if !tc.x11 {
				return
			}
			if got := os.Getenv("GDK_GL"); got != "disable" {
				t.Errorf("GDK_GL=%q, want disable", got)
			}
			if got := os.Getenv("WEBKIT_DISABLE_DMABUF_RENDERER"); got != "1" {
				t.Errorf("WEBKIT_DISABLE_DMABUF_RENDERER=%q, want 1", got)
			}
			if got := os.Getenv("WEBKIT_WEB_RENDER_DEVICE_FILE"); !strings.HasPrefix(got, "/dev/dri/renderD") {
				t.Errorf("WEBKIT_WEB_RENDER_DEVICE_FILE=%q, want a DRM render node", got)
			}
		})
	}
}

// What the user set stays, empty values included.
func TestWebViewDefaultsKeepTheUsersChoice(t *testing.T) {
	mine := map[string]string{
		"DISPLAY":                        ":0",
		"XDG_RUNTIME_DIR":                t.TempDir(),
		"JSC_useDFGJIT":                  "true",
		"GDK_GL":                         "",
		"WEBKIT_DISABLE_DMABUF_RENDERER": "0",
		"WEBKIT_WEB_RENDER_DEVICE_FILE":  "/dev/dri/renderD129",
	}
	withEnv(t, mine)
	webViewDefaults()
	for k, want := range mine {
		if got, set := os.LookupEnv(k); !set || got != want {
			t.Errorf("the user's %s=%q became %q (set %v)", k, want, got, set)
		}
	}
}
