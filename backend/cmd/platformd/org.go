package main

import (
	"context"
	"fmt"
)

func cmdOrgCreate(ctx context.Context, args []string, c *cli) error {
	stdout, stderr := c.stdout, c.stderr
	fs := c.flags()
	dbPath := fs.String("db", "", dbFlagHelp)
	slug := fs.String("slug", "", "short `name` used to sign in, e.g. acme")
	name := fs.String("name", "", "display `name`, e.g. \"Acme Health\"")
	if err := c.parse(args, "db", "slug", "name"); err != nil {
		return err
	}
	if !validSlug(*slug) {
		return usageError(stderr, "--slug must be 1-63 lower-case letters, digits or dashes")
	}
	db, err := openDB(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	o, err := db.CreateOrg(ctx, *slug, *name)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created organization %s (%s)\n", o.Slug, o.ID)
	return nil
}

func validSlug(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
