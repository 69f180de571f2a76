package postgres_test

import (
	"context"
	"testing"
	"time"

	"sessiondesk/backend/store"
	"sessiondesk/backend/store/postgres"
	"sessiondesk/backend/store/postgres/pgtest"
	"sessiondesk/backend/store/storetest"
)

// TestStore runs the shared store suite on PostgreSQL: each test gets its
// own database, and "another handle" is a second pool on it, as a second
// replica would have.
func TestStore(t *testing.T) {
	storetest.Run(t, func(t testing.TB, clock func() time.Time) (store.Store, func() store.Store) {
		url := pgtest.NewDatabase(t)
		open := func() store.Store {
			db, err := postgres.Open(context.Background(), url, postgres.Options{Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		return open(), open
	})
}
