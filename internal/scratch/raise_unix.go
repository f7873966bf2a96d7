//go:build unix

package scratch

import (
	"os"
	"syscall"
)

// raise sends sig to this process.
func raise(sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		_ = syscall.Kill(os.Getpid(), s)
	}
}
