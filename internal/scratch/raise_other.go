//go:build !unix

package scratch

import "os"

// raise does nothing where a process cannot signal itself: Interruptible's error, which wraps
// ErrInterrupted, is all the caller gets.
func raise(os.Signal) {}
