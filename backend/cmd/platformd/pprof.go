package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"sessiondesk/internal/devdebug"
)

// loopback reports whether addr (HOST:PORT) names a loopback host, so the
// profiling endpoints are never reachable from another machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// servePprof serves net/http/pprof on its own loopback listener, apart from
// the API (whose mux never sees /debug/pprof). It returns the address it
// listens on and a stop function.
func servePprof(addr string, log *slog.Logger) (string, func(), error) {
	mux := http.NewServeMux()
	devdebug.AddPprof(mux)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("pprof listen: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info("pprof listening", "addr", ln.Addr().String())
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}
