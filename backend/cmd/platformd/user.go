package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"

	"sessiondesk/backend/store"
	"sessiondesk/backend/totp"
)

// userFlags are the flags that find one user.
type userFlags struct {
	db, org, email *string
}

func addUserFlags(fs *flag.FlagSet) userFlags {
	return userFlags{
		db:    fs.String("db", "", dbFlagHelp),
		org:   fs.String("org", "", "organization `slug`"),
		email: fs.String("email", "", "the user's e-mail `address`"),
	}
}

func findUser(ctx context.Context, db store.Store, org, email string) (store.User, error) {
	o, err := db.OrgBySlug(ctx, org)
	if err != nil {
		return store.User{}, fmt.Errorf("organization %q: %w", org, err)
	}
	u, err := db.UserByEmail(ctx, o.ID, email)
	if err != nil {
		return store.User{}, fmt.Errorf("user %q: %w", email, err)
	}
	return u, nil
}

// open opens the database and finds the user the flags name; the caller
// closes the store.
func (uf userFlags) open(ctx context.Context) (store.Store, store.User, error) {
	db, err := openDB(ctx, *uf.db)
	if err != nil {
		return nil, store.User{}, err
	}
	u, err := findUser(ctx, db, *uf.org, *uf.email)
	if err != nil {
		db.Close()
		return nil, store.User{}, err
	}
	return db, u, nil
}

// showGenerated prints a generated password, the only time anyone sees it.
func showGenerated(stdout io.Writer, pw string, generated bool) {
	if generated {
		fmt.Fprintf(stdout, "password (shown once): %s\n", pw)
	}
}

// passwordFlag is --password-stdin of the commands that set a password.
func passwordFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("password-stdin", false, "read the password from the first line of stdin (otherwise one is generated and printed once)")
}

// password reads the first line of stdin, or generates one, and hashes it
// for the store.
func password(fromStdin bool, stdin io.Reader) (pw string, hash []byte, generated bool, err error) {
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", nil, false, fmt.Errorf("read password: %w", err)
		}
		pw = strings.TrimRight(line, "\r\n")
		if len(pw) < 8 || len(pw) > 72 {
			return "", nil, false, errors.New("the password must be 8 to 72 bytes")
		}
	} else {
		var b [18]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", nil, false, fmt.Errorf("generate password: %w", err)
		}
		pw, generated = base64.RawURLEncoding.EncodeToString(b[:]), true
	}
	hash, err = store.HashPassword(pw, 0)
	return pw, hash, generated, err
}

func cmdUserAdd(ctx context.Context, args []string, c *cli) error {
	stdin, stdout, stderr := c.stdin, c.stdout, c.stderr
	fs := c.flags()
	uf := addUserFlags(fs)
	name := fs.String("name", "", "display `name`")
	role := fs.String("role", "", "the user's `role`: "+store.RoleList())
	fromStdin := passwordFlag(fs)
	if err := c.parse(args, "db", "org", "email", "name", "role"); err != nil {
		return err
	}
	if !store.ValidRole(*role) {
		return usageError(stderr, "--role must be "+store.RoleList())
	}
	if !strings.Contains(*uf.email, "@") {
		return usageError(stderr, "--email must be an e-mail address")
	}
	pw, hash, generated, err := password(*fromStdin, stdin)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, *uf.db)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.OrgBySlug(ctx, *uf.org)
	if err != nil {
		return fmt.Errorf("organization %q: %w", *uf.org, err)
	}
	u, err := db.CreateUser(ctx, store.NewUser{OrgID: o.ID, Email: *uf.email, Name: *name, Role: *role, PasswordHash: hash})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s (%s) in %s with role %s\n", u.Email, u.ID, o.Slug, u.Role)
	showGenerated(stdout, pw, generated)
	return nil
}

func cmdUserPasswd(ctx context.Context, args []string, c *cli) error {
	stdin, stdout := c.stdin, c.stdout
	fs := c.flags()
	uf := addUserFlags(fs)
	fromStdin := passwordFlag(fs)
	if err := c.parse(args, "db", "org", "email"); err != nil {
		return err
	}
	pw, hash, generated, err := password(*fromStdin, stdin)
	if err != nil {
		return err
	}
	db, u, err := uf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	// The command line is no user: the audit event's actor is the "system"
	// actor (store.SystemActor), the reason names the command.
	rv, err := db.SetPassword(ctx, u.ID, hash, store.Actor{Reason: "password reset with platformd user passwd"})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "password of %s changed; ended %d session(s), revoked the trust of %d device(s)\n", u.Email, rv.Sessions, rv.Devices)
	showGenerated(stdout, pw, generated)
	return nil
}

func cmdUserTOTP(ctx context.Context, args []string, c *cli) error {
	stdout := c.stdout
	fs := c.flags()
	uf := addUserFlags(fs)
	if err := c.parse(args, "db", "org", "email"); err != nil {
		return err
	}
	db, u, err := uf.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	secret, err := totp.NewSecret()
	if err != nil {
		return err
	}
	rv, err := db.SetTOTPSecret(ctx, u.ID, secret, store.Actor{Reason: "TOTP enrolled with platformd user totp"})
	if err != nil {
		return err
	}
	uri := "otpauth://totp/" + url.PathEscape("Sessions Desk:"+u.Email) + "?secret=" + secret +
		"&issuer=" + url.QueryEscape("Sessions Desk") + "&algorithm=SHA1&digits=6&period=30"
	fmt.Fprintf(stdout, "enrolled %s in TOTP; ended %d session(s), revoked the trust of %d device(s)\n", u.Email, rv.Sessions, rv.Devices)
	fmt.Fprintf(stdout, "add this secret to an authenticator app (shown once):\n%s\n%s\n", secret, uri)
	return nil
}

func cmdUserList(ctx context.Context, args []string, c *cli) error {
	stdout := c.stdout
	fs := c.flags()
	dbPath := fs.String("db", "", dbFlagHelp)
	org := fs.String("org", "", "organization `slug`")
	if err := c.parse(args, "db", "org"); err != nil {
		return err
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.OrgBySlug(ctx, *org)
	if err != nil {
		return fmt.Errorf("organization %q: %w", *org, err)
	}
	users, err := db.ListUsers(ctx, o.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tROLE\tTOTP")
	for _, u := range users {
		mfa := "no"
		if u.HasTOTP() {
			mfa = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Name, u.Role, mfa)
	}
	return tw.Flush()
}
