package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"sessiondesk/app/kratos/kratostest"
	"sessiondesk/backend/seed"

	"golang.org/x/crypto/bcrypt"
)

// The Kratos column's organization is seeded by writing Kratos' own SQLite
// tables directly, because creating 100,000 sessions through the login flow
// (a bcrypt check and a dozen writes each) would take the better part of an
// hour. Kratos itself creates and migrates the database first (through the
// tests' launcher, app/kratos/kratostest), and the rows are written in one
// transaction while it sits idle: the rows have the shape Kratos v1.3.1 writes (its migrations in
// persistence/sql/migrations; checked against rows a real sign-in wrote:
// times as "2006-01-02 15:04:05.999999+00:00", traits as JSON, a password
// credential with its identifier). kratos_seed_test.go checks that Kratos
// lists every seeded session and signs a seeded person in. The tests of the
// app's Kratos client use the real flows.

// kratosSeed shapes the Kratos organization.
type kratosSeed struct {
	sessions   int
	identities int
	// ties makes groups of sessions share one created_at: Kratos' page
	// token carries only created_at (cut to 10 µs) and the last id, so a
	// page boundary inside such a group is where a naive walk skips.
	ties bool
}

// kratosSeeded is what the seed wrote.
type kratosSeeded struct {
	sessions int
	// tied counts sessions whose created_at another session shares.
	tied int
	took time.Duration
}

// kratosPassword is every seeded person's password (bcrypt, hashed once).
const kratosPassword = "kratos-bench-password"

// seedKratos launches Kratos v1.3.1 (bin) in dir, seeds it as o says and
// returns it running on the seeded database. The caller stops it.
func seedKratos(ctx context.Context, bin, dir string, o kratosSeed) (*kratostest.Server, kratosSeeded, error) {
	if o.identities < 1 || o.sessions < 0 {
		return nil, kratosSeeded{}, fmt.Errorf("kratos seed: at least one identity and no negative count")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, kratosSeeded{}, err
	}
	start := time.Now()
	// Launch migrates the database and, once serving, creates the network
	// (nid) every row belongs to. Kratos writes nothing while nobody calls
	// it, so the rows go in beside it: no second start (~5 s) is needed,
	// and Kratos caches no sessions or identities that could go stale.
	srv, err := kratostest.Launch(bin, dir)
	if err != nil {
		return nil, kratosSeeded{}, err
	}
	got, err := writeKratosRows(ctx, srv.DBPath, o)
	if err != nil {
		_ = srv.Stop()
		return nil, got, fmt.Errorf("kratos seed: %w", err)
	}
	got.took = time.Since(start)
	return srv, got, nil
}

// kratosDB is the seed's open transaction on Kratos' database.
type kratosDB struct {
	tx       *sql.Tx
	nid      string
	password string // identity_credential_types id of "password"
	stmts    map[string]*sql.Stmt
}

// The inserts, with the columns Kratos v1.3.1 fills for an identity made
// through the admin API and a session made by a password sign-in.
var kratosInserts = map[string]string{
	"identity": `INSERT INTO identities (id, schema_id, traits, created_at, updated_at, nid, state, state_changed_at, available_aal)
		VALUES (?, 'person', ?, ?, ?, ?, 'active', ?, 'aal1')`,
	"credential": `INSERT INTO identity_credentials (id, config, identity_credential_type_id, identity_id, created_at, updated_at, nid, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, 0)`,
	"identifier": `INSERT INTO identity_credential_identifiers (id, identifier, identity_credential_id, created_at, updated_at, nid, identity_credential_type_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
	"session": `INSERT INTO sessions (id, issued_at, expires_at, authenticated_at, identity_id, created_at, updated_at, active, nid, aal, authentication_methods, token, logout_token)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
	"device": `INSERT INTO session_devices (id, ip_address, user_agent, location, nid, session_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
}

// writeKratosRows writes o's identities and sessions into the stopped
// Kratos' database in one transaction.
func writeKratosRows(ctx context.Context, path string, o kratosSeed) (kratosSeeded, error) {
	// synchronous=OFF for this connection only: a crash mid-seed loses
	// the seed, nothing else.
	db, err := sql.Open("sqlite3", "file:"+filepath.Clean(path)+"?_fk=true&_synchronous=OFF")
	if err != nil {
		return kratosSeeded{}, err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return kratosSeeded{}, err
	}
	defer tx.Rollback()
	k := &kratosDB{tx: tx, stmts: map[string]*sql.Stmt{}}
	if err := tx.QueryRowContext(ctx, `SELECT id FROM networks`).Scan(&k.nid); err != nil {
		return kratosSeeded{}, fmt.Errorf("the network Kratos made: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT id FROM identity_credential_types WHERE name = 'password'`).Scan(&k.password); err != nil {
		return kratosSeeded{}, fmt.Errorf("the password credential type: %w", err)
	}
	for name, q := range kratosInserts {
		if k.stmts[name], err = tx.PrepareContext(ctx, q); err != nil {
			return kratosSeeded{}, fmt.Errorf("%s: %w", name, err)
		}
	}
	g := newKratosGen(uint64(o.sessions)*7919+uint64(o.identities), time.Now())
	ids, err := k.identities(ctx, g, o.identities)
	if err != nil {
		return kratosSeeded{}, err
	}
	got, err := k.sessions(ctx, g, ids, o)
	if err != nil {
		return got, err
	}
	return got, tx.Commit()
}

// kratosGen draws the seed's values: people, places and browsers from
// backend/seed's pools, from a fixed math/rand seed; only tokens come from
// crypto/rand (a token derivable from this code would be one anyone could
// use).
type kratosGen struct {
	rnd                           *mrand.Rand
	now                           time.Time
	first, last, places, browsers []string
}

func newKratosGen(s uint64, now time.Time) *kratosGen {
	return &kratosGen{rnd: mrand.New(mrand.NewPCG(s, s^0x6b72)), now: now.UTC().Truncate(time.Microsecond),
		first: seed.FirstNames(), last: seed.LastNames(), places: seed.Locations(), browsers: seed.UserAgents()}
}

func pick[T any](r *mrand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// uuid is a version 4 UUID from the seed's source.
func (g *kratosGen) uuid() string {
	var b [16]byte
	for i := range 2 {
		v := g.rnd.Uint64()
		for j := range 8 {
			b[8*i+j] = byte(v >> (8 * j))
		}
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// token is a session token in Kratos' form (prefix and 32 letters/digits).
func token(prefix string) string { return prefix + rand.Text()[:26] + rand.Text()[:6] }

// identities writes n people (user%06d@bigcorp.test, a name from the
// pools) with a password credential, and returns their ids.
func (k *kratosDB) identities(ctx context.Context, g *kratosGen, n int) ([]string, error) {
	// Kratos verifies bcrypt hashes of any cost; the lowest keeps a seeded
	// person's sign-in quick.
	hash, err := bcrypt.GenerateFromPassword([]byte(kratosPassword), bcrypt.MinCost)
	if err != nil {
		return nil, err
	}
	cfg, _ := json.Marshal(map[string]string{"hashed_password": string(hash)})
	ids := make([]string, n)
	for i := range n {
		email := fmt.Sprintf("user%06d@bigcorp.test", i)
		traits, _ := json.Marshal(map[string]string{"email": email, "name": pick(g.rnd, g.first) + " " + pick(g.rnd, g.last)})
		at := g.now.Add(-200*24*time.Hour + time.Duration(i)*time.Second)
		id, cred := g.uuid(), g.uuid()
		if _, err := k.stmts["identity"].ExecContext(ctx, id, string(traits), at, at, k.nid, at); err != nil {
			return nil, fmt.Errorf("identity: %w", err)
		}
		if _, err := k.stmts["credential"].ExecContext(ctx, cred, string(cfg), k.password, id, at, at, k.nid); err != nil {
			return nil, fmt.Errorf("credential: %w", err)
		}
		if _, err := k.stmts["identifier"].ExecContext(ctx, g.uuid(), email, cred, at, at, k.nid, k.password); err != nil {
			return nil, fmt.Errorf("identifier: %w", err)
		}
		ids[i] = id
	}
	return ids, nil
}

// sessions writes o.sessions active sessions of the people ids, each with
// one device entry, created over the last six days. With o.ties about a
// third of them come in groups of 2 to 30 that share one created_at.
func (k *kratosDB) sessions(ctx context.Context, g *kratosGen, ids []string, o kratosSeed) (kratosSeeded, error) {
	var got kratosSeeded
	for got.sessions < o.sessions {
		created := g.now.Add(-time.Minute - time.Duration(g.rnd.Int64N(int64(6*24*time.Hour/time.Microsecond)))*time.Microsecond)
		n := 1
		if o.ties && g.rnd.IntN(32) == 0 {
			n = min(2+g.rnd.IntN(29), o.sessions-got.sessions)
		}
		if n > 1 {
			got.tied += n
		}
		for range n {
			if err := k.session(ctx, g, pick(g.rnd, ids), created); err != nil {
				return got, err
			}
			got.sessions++
		}
	}
	return got, nil
}

// session writes one active session of identity, created at created, and
// its device entry; a quarter of them signed in with a second factor.
func (k *kratosDB) session(ctx context.Context, g *kratosGen, identity string, created time.Time) error {
	authed := created.Add(time.Duration(g.rnd.Int64N(int64(g.now.Sub(created)/time.Microsecond))) * time.Microsecond)
	aal := "aal1"
	methods := []map[string]string{{"method": "password", "aal": "aal1", "completed_at": created.Format(time.RFC3339Nano)}}
	if g.rnd.IntN(4) == 0 {
		aal = "aal2"
		methods = append(methods, map[string]string{"method": "totp", "aal": "aal2", "completed_at": authed.Format(time.RFC3339Nano)})
	}
	m, _ := json.Marshal(methods)
	id := g.uuid()
	if _, err := k.stmts["session"].ExecContext(ctx, id, created, created.Add(30*24*time.Hour), authed, identity, created, authed,
		k.nid, aal, string(m), token("ory_st_"), token("ory_lo_")); err != nil {
		return fmt.Errorf("session: %w", err)
	}
	if _, err := k.stmts["device"].ExecContext(ctx, g.uuid(), seed.IP(g.rnd), pick(g.rnd, g.browsers), pick(g.rnd, g.places),
		k.nid, id, created, created); err != nil {
		return fmt.Errorf("session device: %w", err)
	}
	return nil
}
