// Package bind holds the services the desktop UI calls through Wails. It is
// the only package of the app that imports the Wails runtime: everything below
// it (platform client, keychain, cache, sync) is plain Go and testable without
// a window.
package bind

import (
	"context"
	"os"
	"runtime"
	"time"
)

// AppInfo describes the running app process. Its values can only come from
// the Go side, which makes it the end-to-end harness's proof that a call went
// through the real bindings.
type AppInfo struct {
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	GoVersion string    `json:"goVersion"`
	Platform  string    `json:"platform"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"startedAt"`
}

// AppService answers questions about the app itself.
type AppService struct {
	info AppInfo
}

// NewAppService records the facts AppService reports.
func NewAppService(version string, startedAt time.Time) *AppService {
	return &AppService{info: AppInfo{
		Name:      "Sessions Desk",
		Version:   version,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		PID:       os.Getpid(),
		StartedAt: startedAt.UTC(),
	}}
}

// start is called once the window exists (see Start).
func (s *AppService) start(context.Context) {}

// Info returns facts about this app process.
func (s *AppService) Info() (AppInfo, error) {
	return s.info, nil
}
