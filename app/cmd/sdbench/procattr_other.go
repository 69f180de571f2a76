//go:build !linux

package main

import "os/exec"

// dieWithParent: only Linux has a parent-death signal; elsewhere the bench's
// own shutdown stops the processes it started.
func dieWithParent(cmd *exec.Cmd) {}
