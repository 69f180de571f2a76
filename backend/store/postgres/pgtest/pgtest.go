// Package pgtest gives each test its own fresh PostgreSQL database on the
// cluster named by SESSIONDESK_TEST_POSTGRES (build/scripts/test.sh starts a
// throwaway one and sets it). The database has a random name, so packages
// testing in parallel never share one, and is dropped when the test ends.
//
// Without the variable a test fails when CI=true or when the test command
// asked for PostgreSQL (SESSIONDESK_REQUIRE_POSTGRES=1); only a developer's
// plain `go test` without a cluster skips, and says how to get one.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that holds the cluster's admin URL.
const EnvURL = "SESSIONDESK_TEST_POSTGRES"

// Required reports whether a missing cluster must fail the test.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("SESSIONDESK_REQUIRE_POSTGRES") == "1"
}

// AdminURL returns the cluster's URL, failing or skipping the test when
// there is none (see the package comment).
func AdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u != "" {
		return u
	}
	if Required() {
		t.Fatalf("%s is not set: run the tests through build/scripts/test.sh, which starts a PostgreSQL cluster", EnvURL)
	}
	t.Skipf("%s is not set; build/scripts/test.sh starts a throwaway PostgreSQL cluster and sets it", EnvURL)
	return ""
}

// NewDatabase creates an empty database with a random name and returns its
// URL; it is dropped (with any connections still open) at cleanup.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "sdtest_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}
