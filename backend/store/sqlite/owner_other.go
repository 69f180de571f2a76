//go:build !unix

package sqlite

import "io/fs"

// owner is empty where files have no uid owner (Windows).
func owner(fs.FileInfo) string { return "" }
