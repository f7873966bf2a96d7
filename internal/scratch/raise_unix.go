//go:build unix && !linux

package scratch

import (
	"os"
	"syscall"
	"time"
)

// raise sends sig to this process and gives it a moment to arrive.
func raise(sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		_ = syscall.Kill(os.Getpid(), s)
		time.Sleep(100 * time.Millisecond)
	}
}
