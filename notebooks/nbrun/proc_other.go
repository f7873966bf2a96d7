//go:build !unix

package main

import "os/exec"

// setProcessGroup is a no-op where there are no process groups.
func setProcessGroup(cmd *exec.Cmd) {}
