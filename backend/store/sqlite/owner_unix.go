//go:build unix

package sqlite

import (
	"io/fs"
	"strconv"
	"syscall"
)

// owner is ", owner uid N": with "not writable by uid M" it tells the
// operator whose file it is.
func owner(st fs.FileInfo) string {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return ", owner uid " + strconv.FormatUint(uint64(s.Uid), 10)
	}
	return ""
}
