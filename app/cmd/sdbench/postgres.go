package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgCluster is the PostgreSQL cluster of the -postgres flag (bench.sh and
// test.sh start a throwaway one). The bench seeds one database there and
// gives every destructive run its own copy of it (CREATE DATABASE …
// TEMPLATE), like freshCopy does for SQLite files; every database it made is
// dropped at the end.
type pgCluster struct {
	admin   string // the cluster's admin URL
	prefix  string
	base    string // name of the seeded database
	created []string
}

func newPGCluster(admin string) *pgCluster {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &pgCluster{admin: admin, prefix: "sdbench_" + hex.EncodeToString(b[:]) + "_"}
}

// urlOf is the URL of database name on the cluster.
func (c *pgCluster) urlOf(name string) (string, error) {
	u, err := url.Parse(c.admin)
	if err != nil {
		return "", fmt.Errorf("-postgres: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

func (c *pgCluster) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.admin)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("postgres: %s: %w", sql, err)
	}
	return nil
}

// create makes an empty database (or, with from, a copy of it) and returns
// its URL.
func (c *pgCluster) create(ctx context.Context, name, from string) (string, error) {
	name = c.prefix + name
	q := `CREATE DATABASE ` + name
	if from != "" {
		// FILE_COPY copies the template's files instead of logging every
		// page: seconds instead of tens of seconds at 100,000 sessions.
		q += ` TEMPLATE ` + from + ` STRATEGY = FILE_COPY`
	}
	if err := c.exec(ctx, q); err != nil {
		return "", err
	}
	c.created = append(c.created, name)
	return c.urlOf(name)
}

// seed creates the base database and seeds it with platformd.
func (c *pgCluster) seed(ctx context.Context, cfg config) (time.Duration, error) {
	u, err := c.create(ctx, "base", "")
	if err != nil {
		return 0, err
	}
	c.base = c.created[len(c.created)-1]
	return seedLarge(ctx, cfg.platformd, u, cfg.slug, cfg.sessions, cfg.devices)
}

// fresh is a new copy of the seeded database.
func (c *pgCluster) fresh(ctx context.Context, name string) (string, error) {
	return c.create(ctx, name, c.base)
}

// dropAll drops every database the bench made (with any connections left).
func (c *pgCluster) dropAll() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := len(c.created) - 1; i >= 0; i-- {
		if err := c.exec(ctx, `DROP DATABASE IF EXISTS `+c.created[i]+` WITH (FORCE)`); err != nil {
			fmt.Fprintln(os.Stderr, "sdbench:", err)
		}
	}
}
