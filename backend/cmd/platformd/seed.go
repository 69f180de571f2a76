package main

import (
	"context"
	"fmt"
	"time"

	"sessiondesk/backend/seed"
)

func cmdSeed(ctx context.Context, args []string, c *cli) error {
	stdout, stderr, log := c.stdout, c.stderr, c.log
	fs := c.flags()
	dbPath := fs.String("db", "", dbFlagHelp)
	demo := fs.Bool("demo", false, "seed the demo organizations (needs an empty database)")
	large := fs.String("large-org", "", "create one large organization with this `slug`")
	name := fs.String("name", "", "display name of the large organization (default: the slug)")
	sessions := fs.Int("sessions", 100_000, "active sessions of the large organization")
	devices := fs.Int("devices", 20_000, "devices of the large organization")
	if err := c.parse(args, "db"); err != nil {
		return err
	}
	if *demo == (*large != "") {
		fmt.Fprintln(stderr, "give exactly one of --demo and --large-org")
		fs.Usage()
		return errUsage
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	var st seed.Stats
	if *demo {
		st, err = seed.Demo(ctx, db, time.Now())
	} else {
		st, err = seed.Large(ctx, db, time.Now(), seed.LargeOptions{Slug: *large, Name: *name, Sessions: *sessions, Devices: *devices})
	}
	if err != nil {
		return err
	}
	log.Info("seeded", "orgs", st.Orgs, "users", st.Users, "devices", st.Devices, "sessions", st.Sessions, "took", time.Since(start).Round(time.Millisecond).String())
	fmt.Fprintf(stdout, "seeded %d organization(s), %d users, %d devices, %d sessions; every user's password is %q\n",
		st.Orgs, st.Users, st.Devices, st.Sessions, seed.DemoPassword)
	if *large != "" {
		fmt.Fprintf(stdout, "sign in as admin@%s.test\n", *large)
	}
	return nil
}
