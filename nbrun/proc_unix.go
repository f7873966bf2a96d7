//go:build unix && !linux

package main

import (
	"errors"
	"os/exec"
	"syscall"
)

// becomeSubreaper is not available here.
func becomeSubreaper() bool { return false }

// prepareCommand starts cmd in a process group of its own and makes a cancelled context send
// SIGINT to that group; cmd.WaitDelay kills it if it has not ended after cancelGrace.
func prepareCommand(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
	}
	cmd.WaitDelay = cancelGrace
}

// stopTree kills the command's process group. Without /proc, processes that left the group (the
// Jupyter kernel starts a session of its own) cannot be found.
func stopTree(root int, marker string) error {
	if err := syscall.Kill(-root, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
