package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"sessiondesk/backend/store"
)

// Organizations: creating one and finding it by slug or ID.

// IsEmpty reports whether no organization exists.
func (d *DB) IsEmpty(ctx context.Context) (bool, error) {
	var n int
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM orgs LIMIT 1)`).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlite: is empty: %w", err)
	}
	return n == 0, nil
}

// CreateOrg creates an organization; a taken slug is a Conflict.
func (d *DB) CreateOrg(ctx context.Context, slug, name string) (store.Org, error) {
	o := store.Org{ID: store.NewID(store.PrefixOrg), Slug: slug, Name: name}
	err := d.write(ctx, func(w *writeTx) error {
		ts, err := w.now()
		if err != nil {
			return err
		}
		o.CreatedAt = fromNanos(ts)
		_, err = w.ExecContext(ctx, `INSERT INTO orgs (id, slug, name, created_at) VALUES (?, ?, ?, ?)`, o.ID, slug, name, ts)
		if isUnique(err) {
			return store.Errorf(store.EConflict, "organization %q already exists", slug)
		}
		return err
	})
	if err != nil {
		return store.Org{}, fmt.Errorf("sqlite: create org: %w", err)
	}
	return o, nil
}

func (d *DB) orgWhere(ctx context.Context, where string, arg string) (store.Org, error) {
	var o store.Org
	var created int64
	err := d.db.QueryRowContext(ctx, `SELECT id, slug, name, created_at FROM orgs WHERE `+where, arg).
		Scan(&o.ID, &o.Slug, &o.Name, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return o, store.Errorf(store.ENotFound, "organization not found")
	}
	if err != nil {
		return o, fmt.Errorf("sqlite: get org: %w", err)
	}
	o.CreatedAt = fromNanos(created)
	return o, nil
}

// OrgBySlug finds an organization by slug.
func (d *DB) OrgBySlug(ctx context.Context, slug string) (store.Org, error) {
	return d.orgWhere(ctx, "slug = ?", slug)
}

// OrgByID finds an organization by ID.
func (d *DB) OrgByID(ctx context.Context, id string) (store.Org, error) {
	return d.orgWhere(ctx, "id = ?", id)
}
