package runs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// privateDir checks that dir is a folder of this user's alone: a real folder (not a symbolic link:
// Lstat, nothing followed), owned by this user, with no access for the group or others (0700). A
// run is only ever loaded from, or saved to, the fallback folder when it passes: that folder lies
// in a temporary folder that every user of the machine can write (/tmp), so without the check a
// classmate could plant a run that another's notebook loads as its own, or read one saved there.
// A folder that does not exist is fs.ErrNotExist.
func privateDir(dir string) error {
	info, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link, not a folder of yours", dir)
	case !info.IsDir():
		return fmt.Errorf("%s is not a folder", dir)
	}
	if uid, ok := ownerOf(info); ok && uid != os.Getuid() {
		return fmt.Errorf("%s belongs to the user with id %d, not to you (id %d)", dir, uid, os.Getuid())
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o: others may write or read it (want 0700)", dir, perm)
	}
	return nil
}

// makePrivateDir creates dir with mode 0700 when it does not exist (its parents as needed), then
// checks it with privateDir: a folder that someone else made first under the same name is refused,
// not used.
func makePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return privateDir(dir)
}

// usableFallback reports whether runs may be looked up in the fallback folder dir. A folder that
// does not exist is not, silently (nothing was ever saved there); one that fails privateDir is not
// either, and the reason goes to say, so that a student sees why a run there is ignored.
func usableFallback(dir string, say func(string)) bool {
	err := privateDir(dir)
	switch {
	case err == nil:
		return true
	case errors.Is(err, fs.ErrNotExist):
		return false
	}
	say(fmt.Sprintf("runs: not loading runs from the fallback folder: %v", err))
	return false
}
