//go:build !linux

package kratostest

import "syscall"

// dieWithParent: only Linux can tie a child's life to its parent's; the
// tests run Kratos on Linux.
func dieWithParent() *syscall.SysProcAttr { return nil }
