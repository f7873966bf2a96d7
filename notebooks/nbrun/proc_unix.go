//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts the command in a process group of its own and makes a cancelled
// context kill the whole group: nbconvert, the kernel it started and the cell's program.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
