package scratch

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"
)

// lockPollInterval is how often LockPath tries again while another process holds the lock.
var lockPollInterval = 200 * time.Millisecond

// LockPath takes the exclusive lock file path (created if missing, in an existing folder) and
// returns once this process holds it, calling waiting once if it has to wait for another holder.
// The lock is released by Lock.Release, which removes the file, or when the process ends.
// A cancelled ctx ends the wait with ctx's error.
//
// Holders in the same process exclude each other too. While waiting, LockPath runs the garbage
// collector now and then: a lock that its holder dropped without releasing it is released when
// its file is collected.
func LockPath(ctx context.Context, path string, waiting func()) (*Lock, error) {
	notified := false
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("scratch: lock %s: %w", path, err)
		}
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("scratch: lock %s: %w", path, err)
		}
		if ok {
			if sameFile(f, path) {
				return &Lock{f: f, path: path, remove: true}, nil
			}
			// The previous holder removed the file after we opened it: lock the new one.
			f.Close()
			continue
		}
		f.Close()
		if !notified && waiting != nil {
			waiting()
			notified = true
		}
		if attempt%10 == 9 {
			runtime.GC()
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("scratch: waiting for the lock %s: %w", path, context.Cause(ctx))
		case <-time.After(lockPollInterval):
		}
	}
}
