// Command kratosserve runs the tests' Ory Kratos (app/kratos/kratostest:
// the same binary, config and SQLite database layout) for a test harness
// in another language, the Node end-to-end tests. It prints one JSON line
// {"adminURL", "publicURL", "dir"} once Kratos is ready, and stops Kratos
// when it gets SIGTERM or SIGINT, or when its stdin closes (the harness
// died), so that nothing outlives the test.
//
//	SESSIONDESK_KRATOS_BIN=… go run ./app/kratos/kratostest/kratosserve -dir /tmp/x
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"sessiondesk/app/kratos/kratostest"
)

func main() {
	dir := flag.String("dir", "", "directory for Kratos' config, database and log (required)")
	flag.Parse()
	bin := os.Getenv(kratostest.EnvBin)
	if *dir == "" || bin == "" {
		fmt.Fprintf(os.Stderr, "usage: %s=<kratos binary> kratosserve -dir <directory>\n", kratostest.EnvBin)
		os.Exit(2)
	}
	s, err := kratostest.Launch(bin, *dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kratosserve:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]string{"adminURL": s.AdminURL, "publicURL": s.PublicURL, "dir": s.Dir})

	done := make(chan struct{}, 2)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; done <- struct{}{} }()
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); done <- struct{}{} }()
	<-done
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "kratosserve:", err)
		os.Exit(1)
	}
}
