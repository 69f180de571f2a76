package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"sessiondesk/backend/store"
)

// The command line is the commands table and each command's flag set:
// the overall usage and every command's --help are generated from them,
// so no flag can be left out of the help (TestHelpNamesEveryFlag).

// command is one platformd command.
type command struct {
	name string // "serve", "user add"
	run  func(ctx context.Context, args []string, c *cli) error
}

// commands are platformd's commands, in the order the usage lists them;
// one file each (serve.go, seed.go, copy.go, org.go, user.go).
var commands = []command{
	{"serve", cmdServe},
	{"seed", cmdSeed},
	{"copy", cmdCopy},
	{"org create", cmdOrgCreate},
	{"user add", cmdUserAdd},
	{"user passwd", cmdUserPasswd},
	{"user totp", cmdUserTOTP},
	{"user list", cmdUserList},
}

// cli is what a command runs with. It also keeps the command's flag set and
// required flags (set by flags and parse), which is how the usage learns
// them: describe runs a command with --help, which defines the flags and
// stops at parsing, before the command does anything.
type cli struct {
	name           string
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger

	fs       *flag.FlagSet
	required []string
	fromEnv  map[string]bool // flags parse took from $PLATFORMD_DB
}

// errUsage marks an error whose message is already printed with the usage.
var errUsage = errors.New("usage")

// usageError says what is wrong with the flags and ends the command with a usage error.
func usageError(stderr io.Writer, msg string) error {
	fmt.Fprintln(stderr, msg)
	return errUsage
}

// run executes one command and returns the exit status: 0 ok, 1 failure,
// 2 bad usage.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	err := dispatch(ctx, args, &cli{stdin: stdin, stdout: stdout, stderr: stderr, log: log})
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintln(stderr, "platformd:", err)
		return 1
	}
}

func dispatch(ctx context.Context, args []string, c *cli) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage())
		return errUsage
	}
	switch args[0] {
	case "version", "--version", "-version":
		fmt.Fprintln(c.stdout, "platformd", version)
		return nil
	case "help", "-h", "--help", "-help":
		fmt.Fprint(c.stdout, usage())
		return nil
	}
	name, rest := args[0], args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") && isGroup(name) {
		name, rest = name+" "+rest[0], rest[1:]
	}
	for _, cmd := range commands {
		if cmd.name == name {
			c.name = name
			return cmd.run(ctx, rest, c)
		}
	}
	fmt.Fprintf(c.stderr, "platformd: unknown command %q\n\n%s", name, usage())
	return errUsage
}

// isGroup reports whether name is the first word of commands like
// "user add".
func isGroup(name string) bool {
	for _, cmd := range commands {
		if strings.HasPrefix(cmd.name, name+" ") {
			return true
		}
	}
	return false
}

// flags returns the command's flag set; its --help prints the synopsis
// and the flags.
func (c *cli) flags() *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: platformd %s\n\nFlags:\n", synopsis(c.name, fs, c.required))
		fs.PrintDefaults()
	}
	c.fs = fs
	return fs
}

// parse parses the command's flags; a parse error has been printed and
// becomes errUsage. required flags must not be empty.
func (c *cli) parse(args []string, required ...string) error {
	fs := c.fs
	c.required = required
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	// A --db (or copy's --to) left out comes from $PLATFORMD_DB: a
	// PostgreSQL URL may hold a password, and a process's arguments are
	// readable by every local user (ps, /proc/PID/cmdline) while its
	// environment is readable only by its own user and root. The packaged
	// unit passes it this way.
	for _, name := range []string{"db", "to"} {
		if f := fs.Lookup(name); f != nil && f.Value.String() == "" {
			if v := os.Getenv(envDB); v != "" {
				if err := fs.Set(name, v); err != nil {
					return errUsage
				}
				c.fromEnv = map[string]bool{name: true}
			}
		}
	}
	for _, name := range required {
		if fs.Lookup(name).Value.String() == "" {
			fmt.Fprintf(fs.Output(), "--%s is required\n", name)
			fs.Usage()
			return errUsage
		}
	}
	return nil
}

// describe returns the flag set and required flags of cmd.
func describe(cmd command) (*flag.FlagSet, []string) {
	c := &cli{name: cmd.name, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, log: slog.New(slog.DiscardHandler)}
	if err := cmd.run(context.Background(), []string{"--help"}, c); !errors.Is(err, flag.ErrHelp) || c.fs == nil {
		// A command that does not parse its flags first is a programming
		// error that TestHelpNamesEveryFlag reports.
		panic(fmt.Sprintf("platformd %s --help did not stop at its flags: %v", cmd.name, err))
	}
	return c.fs, c.required
}

// synopsis is a command's line in the usage: its required flags, then the
// others in brackets, each with the argument name its help gives.
func synopsis(name string, fs *flag.FlagSet, required []string) string {
	parts := []string{name}
	isRequired := map[string]bool{}
	for _, r := range required {
		isRequired[r] = true
		parts = append(parts, flagWord(fs.Lookup(r)))
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !isRequired[f.Name] {
			parts = append(parts, "["+flagWord(f)+"]")
		}
	})
	return strings.Join(parts, " ")
}

func flagWord(f *flag.Flag) string {
	arg, _ := flag.UnquoteUsage(f)
	if arg == "" { // a bool flag
		return "--" + f.Name
	}
	return "--" + f.Name + " " + strings.ToUpper(arg)
}

// usage is platformd's usage: every command with all its flags.
func usage() string {
	var b strings.Builder
	b.WriteString("platformd — the Sessions Desk platform service\n\nUsage:\n")
	for _, cmd := range commands {
		fs, required := describe(cmd)
		b.WriteString(wrap("platformd "+synopsis(cmd.name, fs, required), "  ", "      ", 100))
	}
	b.WriteString("  platformd version\n\n")
	b.WriteString("Roles: " + store.RoleList() + ".\n")
	b.WriteString(`Run "platformd COMMAND --help" for what a command's flags mean.` + "\n")
	return b.String()
}

// wrap breaks line at spaces before width columns, never inside a flag
// and its argument, starting with first and continuing with indent; it
// ends with a newline.
func wrap(line, first, indent string, width int) string {
	var b strings.Builder
	cur := first
	for i, w := range splitWords(line) {
		switch {
		case i == 0:
			cur += w
		case len(cur)+1+len(w) > width:
			b.WriteString(cur + "\n")
			cur = indent + w
		default:
			cur += " " + w
		}
	}
	b.WriteString(cur + "\n")
	return b.String()
}

// splitWords splits at spaces but keeps "[--flag VALUE]" and "--flag
// VALUE" together.
func splitWords(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		if n := len(out); n > 0 && !strings.HasPrefix(f, "-") && !strings.HasPrefix(f, "[") {
			if prev := out[n-1]; strings.HasPrefix(prev, "-") || (strings.HasPrefix(prev, "[") && !strings.HasSuffix(prev, "]")) {
				out[n-1] = prev + " " + f
				continue
			}
		}
		out = append(out, f)
	}
	return out
}
