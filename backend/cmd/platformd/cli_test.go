package main

import (
	"flag"
	"strings"
	"testing"
)

// Every flag of every command is in the command's --help and in the
// overall usage, because both are generated from the flag sets; this holds
// them to it (the hand-written usage once left out --trust-proxy and the
// --login-* flags).
func TestHelpNamesEveryFlag(t *testing.T) {
	_, all, _ := runCmd(t, "", "--help")
	seen := 0
	for _, cmd := range commands {
		fs, required := describe(cmd)
		code, _, help := runCmd(t, "", append(strings.Fields(cmd.name), "--help")...)
		if code != 0 || !strings.HasPrefix(help, "Usage: platformd "+cmd.name+" ") {
			t.Errorf("%s --help: exit %d\n%s", cmd.name, code, help)
		}
		fs.VisitAll(func(f *flag.Flag) {
			seen++
			if !strings.Contains(help, "  -"+f.Name+" ") && !strings.Contains(help, "  -"+f.Name+"\n") {
				t.Errorf("%s --help does not explain --%s:\n%s", cmd.name, f.Name, help)
			}
			if !strings.Contains(help, "--"+f.Name) {
				t.Errorf("%s --help's synopsis lacks --%s:\n%s", cmd.name, f.Name, help)
			}
		})
		// The overall usage names the command with each of its flags.
		i := strings.Index(all, "platformd "+cmd.name+" ")
		if i < 0 {
			t.Errorf("usage lacks %q:\n%s", cmd.name, all)
			continue
		}
		entry := all[i:]
		if j := strings.Index(entry, "\n  platformd "); j >= 0 {
			entry = entry[:j]
		}
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(entry, "--"+f.Name+" ") && !strings.Contains(entry, "--"+f.Name+"]") && !strings.Contains(entry, "--"+f.Name+"\n") {
				t.Errorf("usage of %s lacks --%s:\n%s", cmd.name, f.Name, entry)
			}
		})
		for _, r := range required {
			if strings.Contains(entry, "[--"+r+" ") || strings.Contains(entry, "[--"+r+"]") {
				t.Errorf("usage of %s shows required --%s as optional", cmd.name, r)
			}
		}
	}
	// The flags the old hand-written usage had lost are there now.
	for _, name := range []string{"trust-proxy", "login-account-limit", "login-ip-limit", "login-window"} {
		if !strings.Contains(all, "--"+name) {
			t.Errorf("usage lacks --%s", name)
		}
	}
	if seen < 40 {
		t.Errorf("only %d flags in all commands; describe is not seeing the flag sets", seen)
	}
	if code, _, stderr := runCmd(t, ""); code != 2 || stderr != all {
		t.Errorf("no command: exit %d, usage on stderr %v", code, stderr == all)
	}
}

func TestWrapKeepsFlagsWhole(t *testing.T) {
	got := wrap("platformd x --db FILE [--a-long-flag DURATION] [--b] [--c INT]", "  ", "      ", 40)
	want := "  platformd x --db FILE\n      [--a-long-flag DURATION] [--b]\n      [--c INT]\n"
	if got != want {
		t.Errorf("wrap:\n%q\nwant\n%q", got, want)
	}
}
