package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// checkWritable finds out, before SQLite does, whether this process can
// write the database at path, and if not says which path is wrong and how.
// SQLite itself reports only "attempt to write a readonly database" or
// "unable to open database file". In WAL mode it must also create and write
// path-wal and path-shm beside the file, so the directory must be writable
// too; that is tried for real (a file created and removed), which also
// catches read-only mounts and what permission bits do not show.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("sqlite: cannot write %s: %s", path, fmt.Sprintf(format, args...))
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fail("directory %s does not exist", dir)
	case err != nil:
		return fail("directory %s: %v", dir, reason(err))
	case !st.IsDir():
		return fail("%s is not a directory", dir)
	}
	probe, err := os.CreateTemp(dir, ".platformd-write-check-*")
	if err != nil {
		return fail("directory %s is not writable %s (%s%s); SQLite keeps its -wal and -shm files beside the database",
			dir, who(), reason(err), owner(st))
	}
	probe.Close()
	os.Remove(probe.Name())
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fail("%s: %v", p, reason(err))
		}
		if st.IsDir() {
			return fail("%s is a directory", p)
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			return fail("the file %s is not writable %s (%s, mode %04o%s)", p, who(), reason(err), st.Mode().Perm(), owner(st))
		}
		f.Close()
	}
	return nil
}

// who names the process's user the way an operator would check it.
func who() string {
	if uid := os.Getuid(); uid >= 0 {
		return "by uid " + strconv.Itoa(uid)
	}
	return "by this user"
}

// reason is the system's words for a file error, without the path the
// message already names.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, syscall.EROFS):
		return "read-only file system"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}
