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

// WaitReportInterval is how often LockPath calls waiting again while the wait goes on.
var WaitReportInterval = 30 * time.Second

// LockPath takes the exclusive lock file path (created if missing, in an existing folder) and
// returns once this process holds it. If it has to wait for another holder, it calls waiting
// with 0 when the wait starts, then every WaitReportInterval with the time waited so far, so
// that a caller never waits in silence.
// The lock is released by Lock.Release, which removes the file, or when the process ends.
// A cancelled ctx ends the wait with ctx's error.
//
// Holders in the same process exclude each other too. While waiting, LockPath runs the garbage
// collector now and then: a lock that its holder dropped without releasing it is released when
// its file is collected.
func LockPath(ctx context.Context, path string, waiting func(elapsed time.Duration)) (*Lock, error) {
	var waitStart, reported time.Time
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
		if waiting != nil {
			now := time.Now()
			switch {
			case waitStart.IsZero():
				waitStart, reported = now, now
				waiting(0)
			case now.Sub(reported) >= WaitReportInterval:
				reported = now
				waiting(now.Sub(waitStart))
			}
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
