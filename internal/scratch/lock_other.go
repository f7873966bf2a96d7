//go:build !unix

package scratch

import (
	"os"
	"time"
)

// tryLock always succeeds where flock(2) does not exist.
func tryLock(f *os.File) (bool, error) { return true, nil }

// claimStale counts a temporary as stale once it is staleAge old.
func claimStale(path string) (bool, *Lock, error) {
	info, err := os.Stat(path)
	if err != nil {
		return false, nil, err
	}
	if time.Since(info.ModTime()) < staleAge {
		return false, nil, nil
	}
	return true, nil, nil
}

// sameFile is always true where locks are not available.
func sameFile(f *os.File, path string) bool { return true }
