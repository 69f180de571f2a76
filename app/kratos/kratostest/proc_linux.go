package kratostest

import "syscall"

// dieWithParent has the kernel kill Kratos when the test binary dies
// without running its cleanups (a panic elsewhere, go test's -timeout, a
// SIGKILL), so no Kratos outlives the run.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
