//go:build !unix

package main

import "os/exec"

// becomeSubreaper is not available here.
func becomeSubreaper() bool { return false }

// prepareCommand only sets how long a cancelled command may take to end.
func prepareCommand(cmd *exec.Cmd) { cmd.WaitDelay = cancelGrace }

// stopTree cannot find a command's processes here.
func stopTree(root int, marker string) error { return nil }
