package cache

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// Reads that cover the whole file or a whole index: a load decrypts every
// row, Verify checks every page, a count walks an index. Through SQLite's
// page cache each page is copied in by a read call of its own (~13,000
// for 100,000 sessions), a third of a load's reader and most of a count;
// mapped into memory, SQLite reads the pages where the kernel keeps them.
// The load of 100,000 sessions into the index (BenchmarkLoad100k,
// app/syncer) went from 239 to 189 ms (medians of five runs each,
// alternating); counts, see countRows.
//
// The mapping lasts only as long as the read: the pages of a mapped file
// count in the app's resident memory while mapped (540-650 MB at a million
// sessions), so the connection unmaps the file before it goes back to the
// pool. Nothing writes the file meanwhile but this store, which never
// shrinks it (no VACUUM): no mapped page goes away under a read.

// mapAll is the mmap_size asking for the whole file; SQLite caps it at its
// compile-time limit (2 GB), past which it reads as before.
const mapAll = 1 << 40

// scanMapped runs scan on a connection of its own with the file mapped,
// then unmaps it. scan must close what it opened on c (a statement still
// stepping keeps the mapping). A connection that cannot be unmapped is
// closed instead of going back to the pool.
func (s *Store) scanMapped(ctx context.Context, scan func(c *sql.Conn) error) error {
	c, err := s.conn().Conn(ctx)
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer c.Close()
	if s.path != "" {
		if _, err := c.ExecContext(ctx, fmt.Sprintf("PRAGMA mmap_size=%d", int64(mapAll))); err != nil {
			return fmt.Errorf("cache: map the file: %w", err)
		}
		defer func() {
			if _, err := c.ExecContext(context.WithoutCancel(ctx), "PRAGMA mmap_size=0"); err != nil {
				c.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
	}
	return scan(c)
}

// countRows runs query, a COUNT, mapped: a count reads every page of an
// index, in which it looks at little. At a million sessions the count of
// the active ones (the first window's total) took 104-150 ms through the
// page cache and 36-41 ms mapped; the count of all, which reads only each
// page's header, 58-100 ms and 8 ms.
func (s *Store) countRows(ctx context.Context, query string, args ...any) (n int, err error) {
	err = s.scanMapped(ctx, func(c *sql.Conn) error { return c.QueryRowContext(ctx, query, args...).Scan(&n) })
	return n, err
}
