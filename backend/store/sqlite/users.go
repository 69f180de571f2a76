package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"sessiondesk/backend/store"
)

// Users: creating, finding and listing them, and changing their credentials.

// CreateUser adds a user; an e-mail taken in the organization is a Conflict.
func (d *DB) CreateUser(ctx context.Context, nu store.NewUser) (store.User, error) {
	nu = nu.Normalized()
	var u store.User
	err := d.write(ctx, func(w *writeTx) error {
		ts, err := w.now()
		if err != nil {
			return err
		}
		_, err = w.ExecContext(ctx, `INSERT INTO users (id, org_id, email, name, role, password_hash, totp_secret, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, nu.ID, nu.OrgID, nu.Email, nu.Name, nu.Role, nu.PasswordHash, nu.TOTPSecret, ts)
		if isUnique(err) {
			return store.Errorf(store.EConflict, "user %q already exists", nu.Email)
		}
		if err != nil {
			return err
		}
		u = nu.User(fromNanos(ts))
		return nil
	})
	if err != nil {
		return store.User{}, fmt.Errorf("sqlite: create user: %w", err)
	}
	return u, nil
}

const userCols = `id, org_id, email, name, role, password_hash, totp_secret, created_at`

func scanUser(sc scanner) (store.User, error) {
	var u store.User
	var created int64
	err := sc.Scan(&u.ID, &u.OrgID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.TOTPSecret, &created)
	u.CreatedAt = fromNanos(created)
	return u, err
}

// UserByEmail finds a user by e-mail, case-insensitively.
func (d *DB) UserByEmail(ctx context.Context, orgID, email string) (store.User, error) {
	row := d.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE org_id = ? AND email = ?`,
		orgID, store.NormalEmail(email))
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return u, store.Errorf(store.ENotFound, "user not found")
	}
	if err != nil {
		return u, fmt.Errorf("sqlite: user by email: %w", err)
	}
	return u, nil
}

// ListUsers lists an organization's users by e-mail.
func (d *DB) ListUsers(ctx context.Context, orgID string) ([]store.User, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE org_id = ? ORDER BY email`, orgID)
	out, err := collect(rows, err, 0, scanUser)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return out, nil
}

// SetPassword replaces a user's password hash, ends the user's sessions and
// revokes the trust of the user's devices, audited, in one transaction.
func (d *DB) SetPassword(ctx context.Context, userID string, hash []byte, by store.Actor) (store.Revocation, error) {
	return d.resetCredential(ctx, "set password", store.ActionUserPasswordReset, userID, by,
		`UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
}

// SetTOTPSecret enrolls a user in TOTP ("" unenrolls) and forgets used steps,
// with the same revocation as SetPassword.
func (d *DB) SetTOTPSecret(ctx context.Context, userID, secret string, by store.Actor) (store.Revocation, error) {
	return d.resetCredential(ctx, "set totp secret", store.ActionUserTOTPReset, userID, by,
		`UPDATE users SET totp_secret = ?, totp_last_step = 0 WHERE id = ?`, secret, userID)
}

// UseTOTPStep marks step as used; false when it (or a later one) already was.
func (d *DB) UseTOTPStep(ctx context.Context, userID string, step int64) (bool, error) {
	var ok bool
	err := d.write(ctx, func(w *writeTx) error {
		res, err := w.ExecContext(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, userID, step)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: use totp step: %w", err)
	}
	return ok, nil
}
