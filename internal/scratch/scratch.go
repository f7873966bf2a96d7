// Package scratch makes the temporary files and folders that cifarlab writes before renaming them
// into place (a download, a flat cache, a saved run), and the locks that keep two processes from
// doing the same work at once, so that nothing is left behind:
//
//   - every temporary is locked by the process that made it for as long as that process lives
//     (an advisory flock(2), which the kernel drops when the process dies, however it dies), so that
//     RemoveStale can tell the temporaries of a dead process (unlocked) from those still being
//     written (locked) and remove the former at the next start;
//   - Interruptible turns SIGINT and SIGTERM into a cancelled context while the temporaries exist,
//     so that the code writing them removes them before the signal ends the program.
//
// Where flock(2) does not exist (not unix), temporaries count as stale once a day old.
package scratch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// staleAge is the age after which a temporary counts as stale where locks are not available.
const staleAge = 24 * time.Hour

// Lock is a held lock: on a temporary made by CreateTemp or MkdirTemp, or on a lock file taken
// by LockPath. Release it once the temporary is renamed into place or removed.
type Lock struct {
	f      *os.File // the descriptor holding the lock
	path   string   // the locked path
	remove bool     // remove path on Release (lock files of LockPath)
}

// Release gives the lock up (removing the lock file of LockPath first). It is safe to call more
// than once and on a nil Lock.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	var err error
	if l.remove {
		if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = fmt.Errorf("scratch: removing the lock file: %w", rerr)
		}
	}
	if cerr := l.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("scratch: releasing the lock on %s: %w", l.path, cerr)
	}
	l.f = nil
	return err
}

// CreateTemp is os.CreateTemp, with the new file locked until the returned Lock is released:
// RemoveStale leaves it alone while this process lives. Closing the file does not release the
// lock.
func CreateTemp(dir, pattern string) (*os.File, *Lock, error) {
	for {
		f, err := os.CreateTemp(dir, pattern)
		if err != nil {
			return nil, nil, err
		}
		l, ok, err := lockTemp(f.Name())
		if err == nil && ok {
			return f, l, nil
		}
		f.Close()
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			os.Remove(f.Name())
			return nil, nil, err
		}
		// A RemoveStale of another process took the file between its creation and lockTemp, to
		// remove it: take another name.
	}
}

// MkdirTemp is os.MkdirTemp, with the new folder locked until the returned Lock is released.
func MkdirTemp(dir, pattern string) (string, *Lock, error) {
	for {
		name, err := os.MkdirTemp(dir, pattern)
		if err != nil {
			return "", nil, err
		}
		l, ok, err := lockTemp(name)
		if err == nil && ok {
			return name, l, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			os.Remove(name)
			return "", nil, err
		}
	}
}

// lockTemp takes the lock of a new temporary without waiting; ok is false when another process
// holds it.
func lockTemp(path string) (l *Lock, ok bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("scratch: locking %s: %w", path, err)
	}
	ok, err = tryLock(f)
	if err != nil || !ok {
		f.Close()
		if err != nil {
			return nil, false, fmt.Errorf("scratch: locking %s: %w", path, err)
		}
		return nil, false, nil
	}
	if !sameFile(f, path) {
		// Another process's RemoveStale took the new temporary for a stale one (between its
		// creation and this lock) and removed it while we waited: the lock is on nothing.
		f.Close()
		return nil, false, nil
	}
	return &Lock{f: f, path: path}, true, nil
}

// RemoveStale removes the temporaries in dir whose names match one of patterns (filepath.Match
// patterns, such as ".tmp-*.cifar") and that no living process holds locked: leftovers of a
// process that was killed. It returns the removed paths. A missing dir is not an error.
//
// Only give patterns that name this program's temporaries: whatever matches and is not locked
// is removed, folders with all their content.
func RemoveStale(dir string, patterns ...string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("scratch: looking for stale temporaries: %w", err)
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		if !matchesAny(e.Name(), patterns) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		stale, l, err := claimStale(path)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) { // gone meanwhile: renamed into place or removed
				errs = append(errs, err)
			}
			continue
		}
		if !stale {
			continue
		}
		if err := os.RemoveAll(path); err != nil {
			errs = append(errs, fmt.Errorf("scratch: removing the stale temporary %s: %w", path, err))
		} else {
			removed = append(removed, path)
		}
		l.Release()
	}
	return removed, errors.Join(errs...)
}

func matchesAny(name string, patterns []string) bool {
	for _, p := range patterns {
		if ok, _ := filepath.Match(p, name); ok {
			return true
		}
	}
	return false
}
