package store

// Rows is what the stores' database drivers' result sets share
// (database/sql's *Rows and pgx's Rows; they differ in Close).
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Collect reads every row with scan; the caller closes rows. capHint sizes
// the slice.
func Collect[T any, R Rows](rows R, capHint int, scan func(R) (T, error)) ([]T, error) {
	out := make([]T, 0, capHint)
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
