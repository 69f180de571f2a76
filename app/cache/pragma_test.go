package cache

import (
	"context"
	"crypto/rand"
	"testing"
)

func TestPragmas(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	st, _, err := Open(context.Background(), Options{Dir: t.TempDir(), Profile: "p", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for pragma, want := range map[string]string{"secure_delete": "1", "journal_mode": "wal", "foreign_keys": "1"} {
		var got string
		if err := st.db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil || got != want {
			t.Errorf("PRAGMA %s = %q (%v), want %q", pragma, got, err, want)
		}
	}
	var versions int
	st.db.QueryRow("SELECT COUNT(*) FROM schema_migrations").Scan(&versions)
	if versions != 1 {
		t.Fatalf("schema_migrations has %d rows", versions)
	}
}
