package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill cmd when the bench dies, so that a
// crashed or interrupted run leaves no platformd behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
