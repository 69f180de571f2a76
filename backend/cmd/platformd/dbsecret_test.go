package main

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sessiondesk/backend/store/postgres/pgtest"
)

// dbPassword is a database password the tests put in PostgreSQL URLs. The
// throwaway cluster authenticates by trust, so any password connects; what
// matters is where it shows up.
const dbPassword = "pw-that-must-stay-secret-4711"

// TestDBPasswordInQueryIsNotLogged serves a PostgreSQL URL that carries its
// password as a query parameter (pgx reads ?password= like the userinfo
// one). url.Redacted masks only the userinfo, so the startup line logged
// the password in clear for anyone who reads the journal.
func TestDBPasswordInQueryIsNotLogged(t *testing.T) {
	bin := buildPlatformd(t)
	for _, param := range []string{"password", "sslpassword"} {
		t.Run(param, func(t *testing.T) {
			db := pgtest.NewDatabase(t) + "&" + param + "=" + dbPassword
			d := startDaemon(t, bin, "--db", db)
			resp, err := http.Get("http://" + d.addr + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("healthz %d", resp.StatusCode)
			}
			d.signal(syscall.SIGTERM)
			d.waitExit()
			logs := d.log()
			if !strings.Contains(logs, "platformd listening") || !strings.Contains(logs, "postgres://postgres@") {
				t.Fatalf("no startup line naming the database:\n%s", logs)
			}
			if strings.Contains(logs, dbPassword) {
				t.Fatalf("the log holds the database password:\n%s", logs)
			}
		})
	}
}

// TestUnitKeepsDBPasswordOffTheCommandLine runs the packaged unit's
// ExecStart line the way systemd would (the config file's lines as the
// environment, ${VAR} one word, $VAR split on spaces) with a PostgreSQL URL
// holding a password, and reads the process's command line as any local
// user can (/proc/PID/cmdline is world-readable; ps shows it). The config
// file is 0600 precisely because of that password, so the password must
// reach platformd through the environment (readable only by its own user
// and root), never as an argument.
func TestUnitKeepsDBPasswordOffTheCommandLine(t *testing.T) {
	bin := buildPlatformd(t)
	unitDir := filepath.Join("..", "..", "..", "build", "linux", "platformd")
	env := map[string]string{}
	conf, err := os.ReadFile(filepath.Join(unitDir, "platformd.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(conf), "\n") {
		if line = strings.TrimSpace(line); line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("platformd.conf: %q is not KEY=value", line)
		}
		env[k] = v
	}
	if _, ok := env["PLATFORMD_DB"]; !ok {
		t.Fatal("platformd.conf sets no PLATFORMD_DB")
	}
	u := pgtest.NewDatabase(t)
	env["PLATFORMD_DB"] = strings.Replace(u, "postgres://postgres@", "postgres://postgres:"+dbPassword+"@", 1)
	if !strings.Contains(env["PLATFORMD_DB"], dbPassword) {
		t.Fatalf("could not put a password in %s", u)
	}
	env["PLATFORMD_LISTEN"] = "127.0.0.1:0"

	unit, err := os.ReadFile(filepath.Join(unitDir, "platformd.service"))
	if err != nil {
		t.Fatal(err)
	}
	var execStart string
	for _, line := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			execStart = v
		}
	}
	var argv []string
	for _, w := range strings.Fields(execStart) {
		switch {
		case strings.HasPrefix(w, "${") && strings.HasSuffix(w, "}"):
			argv = append(argv, env[w[2:len(w)-1]])
		case strings.HasPrefix(w, "$"):
			argv = append(argv, strings.Fields(env[w[1:]])...)
		default:
			argv = append(argv, w)
		}
	}
	if len(argv) < 2 || argv[0] != "/usr/bin/platformd" || argv[1] != "serve" {
		t.Fatalf("ExecStart=%s", execStart)
	}
	cmd := exec.Command(bin, argv[1:]...)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				listening <- m[1]
			}
		}
		close(listening)
	}()
	var addr string
	select {
	case a, ok := <-listening:
		if !ok {
			t.Fatalf("platformd %q exited before listening", argv[1:])
		}
		addr = a
	case <-time.After(60 * time.Second):
		t.Fatal("platformd did not listen")
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(cmdline, []byte(dbPassword)) {
		t.Errorf("the database password is on platformd's command line, readable by every local user: %q",
			strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
}
