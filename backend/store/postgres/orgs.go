package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"sessiondesk/backend/store"
)

// Organizations: creating one and finding it by slug or ID.

// IsEmpty reports whether no organization exists.
func (d *DB) IsEmpty(ctx context.Context) (bool, error) {
	var exists bool
	if err := d.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orgs)`).Scan(&exists); err != nil {
		return false, wrap("is empty", err)
	}
	return !exists, nil
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
		_, err = w.Exec(ctx, `INSERT INTO orgs (id, slug, name, created_at) VALUES ($1, $2, $3, $4)`, o.ID, slug, name, ts)
		if isUnique(err) {
			return store.Errorf(store.EConflict, "organization %q already exists", slug)
		}
		return err
	})
	if err != nil {
		return store.Org{}, wrap("create org", err)
	}
	return o, nil
}

func (d *DB) orgWhere(ctx context.Context, where string, arg string) (store.Org, error) {
	var o store.Org
	var created int64
	err := d.pool.QueryRow(ctx, `SELECT id, slug, name, created_at FROM orgs WHERE `+where, arg).
		Scan(&o.ID, &o.Slug, &o.Name, &created)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, store.Errorf(store.ENotFound, "organization not found")
	}
	if err != nil {
		return o, wrap("get org", err)
	}
	o.CreatedAt = fromNanos(created)
	return o, nil
}

// OrgBySlug finds an organization by slug.
func (d *DB) OrgBySlug(ctx context.Context, slug string) (store.Org, error) {
	return d.orgWhere(ctx, "slug = $1", slug)
}

// OrgByID finds an organization by ID.
func (d *DB) OrgByID(ctx context.Context, id string) (store.Org, error) {
	return d.orgWhere(ctx, "id = $1", id)
}
