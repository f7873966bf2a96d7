//go:build linux

package scratch

import (
	"os"
	"runtime"
	"syscall"
)

// raise sends sig to the calling thread, which handles it before the system call returns: when
// the program does not handle sig itself, the process ends before raise returns.
func raise(sig os.Signal) {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_ = syscall.Tgkill(os.Getpid(), syscall.Gettid(), s)
}
