//go:build unix

package scratch

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// tryLock takes an exclusive flock(2) on f without waiting.
func tryLock(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		}
		return false, err
	}
}

// claimStale reports whether the temporary at path is stale (no process holds its lock); then
// it holds the lock itself, so that no process takes the path up while it is removed.
func claimStale(path string) (bool, *Lock, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, nil, err
	}
	ok, err := tryLock(f)
	if err != nil || !ok {
		f.Close()
		if err != nil {
			return false, nil, fmt.Errorf("scratch: checking %s: %w", path, err)
		}
		return false, nil, nil
	}
	return true, &Lock{f: f, path: path}, nil
}

// sameFile reports whether path still names the file open as f (a lock file can be removed and
// created again while a process waits for its lock).
func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}
